"""`check_ledger` with payouts and corrections: quiet on honest books, loud on each kind of lie;
and on PostgreSQL the database itself refuses to edit or delete ledger history."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from conftest import Cast
from studyhall.ledger.models import (
    Account,
    AccountKind,
    Payout,
    PayoutEvent,
    PayoutItem,
    Transfer,
    TransferKind,
)
from studyhall.ledger.payouts import build_batch, mark_batch_paid
from studyhall.ledger.services import (
    funding_account,
    post_transfer,
    tutor_account,
)
from studyhall.ledger.tests.conftest import Complete
from studyhall.tutoring.services.corrections import adjust_completion_minutes, void_completion

pytestmark = pytest.mark.postgres

NY = ZoneInfo("America/New_York")
WEEK = date(2025, 3, 3)


def check() -> tuple[str, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.suppress(CommandError):
        call_command("check_ledger", stdout=out, stderr=err)
    return out.getvalue(), [line.removeprefix("BREACH: ") for line in err.getvalue().splitlines()]


@pytest.fixture
def books(cast: Cast, complete: Complete) -> Payout:
    """A paid payroll week, a voided session, an adjusted one, and an unpaid earning."""
    cast.org.payout_provider = "payroll"
    cast.org.save()
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=55)
    complete(datetime(2025, 3, 5, 15, 0, tzinfo=NY), minutes=30, tutor=cast.other_tutor)
    [payout, _] = build_batch(
        organization_id=cast.org.pk,
        week_start=WEEK,
        actor=None,
        now=datetime(2025, 3, 12, tzinfo=UTC),
    ).payouts
    mark_batch_paid(batch_id=payout.batch_id, actor=cast.admin)
    voided = complete(datetime(2025, 3, 11, 15, 0, tzinfo=NY), minutes=45)
    void_completion(session_id=voided.pk, actor=cast.agent, reason="x", idempotency_key="v")
    adjusted = complete(datetime(2025, 3, 12, 15, 0, tzinfo=NY), minutes=60)
    adjust_completion_minutes(
        session_id=adjusted.pk, actor=cast.agent, minutes=30, reason="x", idempotency_key="a"
    )
    return payout


def test_honest_books_pass(books: Payout) -> None:
    out, breaches = check()
    assert breaches == []
    assert out.strip() == (
        "Ledger OK: 10 transfers, 5 accounts, 4 completed sessions each paid once, "
        "2 payouts each matching their earnings."
    )


def test_a_payout_that_does_not_match_its_earnings_is_a_breach(cast: Cast, books: Payout):
    # Another earning slipped into the payout without changing its amount.
    stray = Transfer.objects.filter(kind=TransferKind.EARNING, payout_item__isnull=True).first()
    assert stray is not None
    PayoutItem.objects.create(payout=books, transfer=stray, amount_cents=750)
    _, breaches = check()
    assert f"payout {books.pk} is for {books.amount_cents} but its earnings sum to " in breaches[0]


def test_money_appearing_from_nowhere_is_a_breach(cast: Cast, books: Payout) -> None:
    tess = tutor_account(organization=cast.org, tutor_id=cast.tutor.pk)
    Account.objects.filter(pk=tess.pk).update(balance_cents=tess.balance_cents + 1)
    _, breaches = check()
    assert f"account {tess.pk} shows a balance of" in breaches[0]
    assert "the USD accounts sum to 1, not 0" in breaches


def test_an_unrecorded_correction_is_a_breach(cast: Cast, books: Payout) -> None:
    earning = Transfer.objects.filter(kind=TransferKind.EARNING).order_by("id").first()
    assert earning is not None and earning.session is not None
    session = earning.session
    with transaction.atomic():
        post_transfer(
            kind=TransferKind.ADJUSTMENT,
            idempotency_key="sneaky",
            organization=cast.org,
            debit=funding_account(earning=earning),
            credit=tutor_account(organization=cast.org, tutor_id=session.tutor_id),
            amount_cents=500,
            description="Bonus nobody approved",
            created_by=None,
            session_id=session.pk,
        )
    _, breaches = check()
    assert breaches == [
        f"session {session.pk} nets 1875 to its tutor; 55 min at 1500/h is 1375",
    ]


def test_a_status_without_its_history_is_a_breach(books: Payout) -> None:
    Payout.objects.filter(pk=books.pk).update(status="scheduled")
    _, breaches = check()
    assert f"payout {books.pk} is scheduled but its history ends with paid" in breaches


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")
def test_postgresql_refuses_to_edit_or_delete_ledger_history(books: Payout) -> None:
    transfer = Transfer.objects.first()
    assert transfer is not None
    item = PayoutItem.objects.filter(payout=books).first()
    event = PayoutEvent.objects.filter(payout=books).first()
    assert item is not None and event is not None
    statements = [
        ("UPDATE ledger_transfer SET amount_cents = 1 WHERE id = %s", transfer.pk),
        ("DELETE FROM ledger_transfer WHERE id = %s", transfer.pk),
        ("UPDATE ledger_entry SET amount_cents = 1 WHERE transfer_id = %s", transfer.pk),
        ("DELETE FROM ledger_entry WHERE transfer_id = %s", transfer.pk),
        ("DELETE FROM ledger_payoutitem WHERE id = %s", item.pk),
        ("UPDATE ledger_payoutevent SET reason = 'edited' WHERE id = %s", event.pk),
    ]
    for sql, pk in statements:
        with (
            pytest.raises(IntegrityError, match="the ledger is append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [pk])
    # Accounts are not history: their stored balance still moves.
    account = Account.objects.get(kind=AccountKind.PAID_OUT)
    Account.objects.filter(pk=account.pk).update(balance_cents=account.balance_cents)
    assert check()[1] == []
