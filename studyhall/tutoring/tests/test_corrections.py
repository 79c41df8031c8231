"""Voiding a completion and changing its minutes: new transfers for the difference, never an
edit; support agents only; once per idempotency key; paid-out money comes from the next
payout."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from conftest import Cast
from studyhall.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import Account, AccountKind, Transfer, TransferKind
from studyhall.ledger.payouts import build_batch, mark_batch_paid
from studyhall.ledger.selectors import balances_of
from studyhall.testing import factories as f
from studyhall.tutoring.models import Completion, Correction, Session, Status
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.corrections import adjust_completion_minutes, void_completion

pytestmark = pytest.mark.postgres

NY = ZoneInfo("America/New_York")


def completed(cast: Cast, *, minutes: int = 55, start: datetime | None = None) -> Session:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=start or datetime.now(tz=UTC) - timedelta(hours=2),
    )
    with time_machine.travel(session.scheduled_start + timedelta(minutes=70), tick=False):
        complete_session(
            session_id=session.pk, actor=cast.tutor, minutes=minutes, recap=f.GOOD_RECAP
        )
    return session


def tutor_balance(cast: Cast) -> int:
    return Account.objects.get(kind=AccountKind.TUTOR_EARNINGS, user=cast.tutor).balance_cents


def assert_ledger_ok() -> None:
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_voiding_reverses_the_earning_without_touching_it(cast: Cast) -> None:
    session = completed(cast, minutes=55)
    earning = Transfer.objects.get(kind=TransferKind.EARNING)

    correction = void_completion(
        session_id=session.pk, actor=cast.agent, reason="Student never came", idempotency_key="v1"
    )

    assert (correction.kind, correction.minutes_before, correction.minutes_after) == (
        "void",
        55,
        0,
    )
    assert (correction.amount_before_cents, correction.amount_after_cents) == (1375, 0)
    reversal = correction.transfer
    assert (reversal.kind, reversal.amount_cents, reversal.session_id) == (
        TransferKind.REVERSAL,
        1375,
        session.pk,
    )
    assert reversal.description == ("CHEM 110 session voided: 55 min at $15.00/h taken back")
    assert tutor_balance(cast) == 0
    # History stands: the completion and its earning are as the tutor logged them.
    completion = Completion.objects.get(session=session)
    assert (completion.minutes, completion.earning_id) == (55, earning.pk)
    earning.refresh_from_db()
    assert earning.amount_cents == 1375
    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    audit = AuditEntry.objects.get(action="session.completion_voided")
    assert (audit.actor, audit.session_id, audit.data["difference_cents"]) == (
        cast.agent,
        session.pk,
        -1375,
    )
    assert audit.data["reason"] == "Student never came"
    assert_ledger_ok()


def test_changing_the_minutes_pays_the_difference_either_way(cast: Cast) -> None:
    session = completed(cast, minutes=55)

    down = adjust_completion_minutes(
        session_id=session.pk,
        actor=cast.agent,
        minutes=45,
        reason="Left early",
        idempotency_key="a",
    )
    up = adjust_completion_minutes(
        session_id=session.pk,
        actor=cast.agent,
        minutes=90,
        reason="Stayed late",
        idempotency_key="b",
    )

    assert (down.minutes_before, down.minutes_after, down.difference_cents) == (55, 45, -250)
    assert (down.transfer.kind, down.transfer.amount_cents) == (TransferKind.ADJUSTMENT, 250)
    assert (up.minutes_before, up.minutes_after, up.difference_cents) == (45, 90, 1125)
    assert up.transfer.description == (
        "CHEM 110 session changed from 45 min to 1 h 30 min at $15.00/h (+$11.25)"
    )
    assert tutor_balance(cast) == 2250
    assert_ledger_ok()
    void = void_completion(
        session_id=session.pk, actor=cast.agent, reason="Fraud", idempotency_key="c"
    )
    assert (void.minutes_before, void.amount_before_cents) == (90, 2250)
    assert tutor_balance(cast) == 0
    assert_ledger_ok()


def test_only_support_agents_correct(cast: Cast) -> None:
    session = completed(cast)
    for who in (cast.tutor, cast.admin, cast.student, cast.outsider):
        with pytest.raises(Forbidden):
            void_completion(session_id=session.pk, actor=who, reason="x", idempotency_key="k")
        with pytest.raises(Forbidden):
            adjust_completion_minutes(
                session_id=session.pk, actor=who, minutes=30, reason="x", idempotency_key="k"
            )
    assert Correction.objects.count() == 0
    assert Transfer.objects.count() == 1


def test_a_repeated_request_corrects_once(cast: Cast) -> None:
    session = completed(cast)
    first = void_completion(
        session_id=session.pk, actor=cast.agent, reason="Dup", idempotency_key="same"
    )
    again = void_completion(
        session_id=session.pk, actor=cast.agent, reason="Dup", idempotency_key="same"
    )
    assert again.pk == first.pk
    assert Transfer.objects.filter(kind=TransferKind.REVERSAL).count() == 1
    with pytest.raises(Conflict) as reused:
        adjust_completion_minutes(
            session_id=session.pk, actor=cast.agent, minutes=30, reason="x", idempotency_key="same"
        )
    assert reused.value.code == "idempotency_key_reused"


def test_refusals_say_why_and_write_nothing(cast: Cast) -> None:
    session = completed(cast, minutes=55)
    open_session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    cases = [
        (
            lambda: adjust_completion_minutes(
                session_id=session.pk, actor=cast.agent, minutes=55, reason="x", idempotency_key="1"
            ),
            RuleViolation,
            "no_change",
        ),
        (
            lambda: adjust_completion_minutes(
                session_id=session.pk, actor=cast.agent, minutes=95, reason="x", idempotency_key="2"
            ),
            RuleViolation,
            "invalid_duration",
        ),
        (
            lambda: void_completion(
                session_id=open_session.pk, actor=cast.agent, reason="x", idempotency_key="3"
            ),
            Conflict,
            "not_completed",
        ),
        (
            lambda: void_completion(
                session_id=session.pk, actor=cast.agent, reason="  ", idempotency_key="4"
            ),
            InvalidInput,
            "reason_required",
        ),
        (
            lambda: void_completion(
                session_id=session.pk, actor=cast.agent, reason="x", idempotency_key=""
            ),
            InvalidInput,
            "invalid_idempotency_key",
        ),
        (
            lambda: void_completion(
                session_id=10**9, actor=cast.agent, reason="x", idempotency_key="5"
            ),
            NotFound,
            "not_found",
        ),
    ]
    for call, error, code in cases:
        with pytest.raises(error) as refused:
            call()
        assert refused.value.code == code
    assert Correction.objects.count() == 0
    assert Transfer.objects.count() == 1
    void_completion(session_id=session.pk, actor=cast.agent, reason="x", idempotency_key="6")
    with pytest.raises(Conflict) as voided:
        adjust_completion_minutes(
            session_id=session.pk, actor=cast.agent, minutes=30, reason="x", idempotency_key="7"
        )
    assert voided.value.code == "already_voided"


def test_a_correction_to_paid_out_money_comes_from_the_next_payout(cast: Cast) -> None:
    cast.org.payout_provider = "payroll"
    cast.org.save()
    paid = completed(cast, minutes=55, start=datetime(2025, 3, 4, 15, 0, tzinfo=NY))
    [payout] = build_batch(
        organization_id=cast.org.pk,
        week_start=date(2025, 3, 3),
        actor=None,
        now=datetime(2025, 3, 12, tzinfo=UTC),
    ).payouts
    mark_batch_paid(batch_id=payout.batch_id, actor=cast.admin)

    with time_machine.travel(datetime(2025, 3, 13, 12, 0, tzinfo=UTC), tick=False):
        void_completion(
            session_id=paid.pk, actor=cast.agent, reason="Never happened", idempotency_key="v"
        )

    # The tutor owes it back: shown as a negative balance.
    assert tutor_balance(cast) == -1375
    assert [m.format() for m in balances_of(cast.tutor)] == ["−$13.75"]
    assert_ledger_ok()
    # The next week earns $22.50; the payout is that minus what was voided.
    completed(cast, minutes=90, start=datetime(2025, 3, 12, 15, 0, tzinfo=NY))
    [next_payout] = build_batch(
        organization_id=cast.org.pk,
        week_start=date(2025, 3, 10),
        actor=None,
        now=datetime(2025, 3, 19, tzinfo=UTC),
    ).payouts
    assert (next_payout.amount_cents, next_payout.minutes) == (2250 - 1375, 90 - 55)
    assert tutor_balance(cast) == 0
    assert_ledger_ok()


def test_the_session_page_lists_each_correction_after_the_logged_time(
    client: Client, cast: Cast
) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=55, recap=f.GOOD_RECAP)
    adjust_completion_minutes(
        session_id=session.pk,
        actor=cast.agent,
        minutes=30,
        reason="The tutor logged the wrong session length.",
        idempotency_key="page-1",
    )
    # Who corrected it and why are Support's internal notes: the admins see them, the tutor
    # sees what changed in their pay.
    client.force_login(cast.admin)
    html = client.get(reverse("tutoring:detail", args=[session.pk])).content.decode()
    assert "by Sue Support" in html
    assert "The tutor logged the wrong session length." in html
    client.force_login(cast.tutor)
    html = client.get(reverse("tutoring:detail", args=[session.pk])).content.decode()
    assert "55 min → 30 min ($13.75 → $7.50)" in html
    assert "by Sue Support" not in html
    assert "The tutor logged the wrong session length." not in html
    client.force_login(cast.student)
    html = client.get(reverse("tutoring:detail", args=[session.pk])).content.decode()
    assert "55 min → 30 min," in html and "$7.50" not in html
