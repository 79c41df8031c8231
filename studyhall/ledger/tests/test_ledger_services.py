"""The ledger's writes: double entry, positive amounts, one earning per session, and balances
that always equal the sum of their entries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from studyhall.ledger.models import Account, AccountKind, Entry, Transfer, TransferKind
from studyhall.ledger.selectors import balance_cents, balances_of, earning_entries_of
from studyhall.ledger.services import (
    budget_account,
    deposit_earning,
    post_transfer,
    tutor_account,
)
from studyhall.testing import factories as f
from studyhall.tutoring.models import Session

if TYPE_CHECKING:
    from conftest import Cast
    from studyhall.orgs.models import Organization

pytestmark = pytest.mark.postgres


@pytest.fixture
def session(cast: Cast) -> Session:
    return f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])


def transfer(cast: Cast, amount: int, **overrides: Any) -> Transfer:
    kwargs: dict[str, Any] = {
        "kind": TransferKind.ADJUSTMENT,
        "idempotency_key": f"test:{Transfer.objects.count() + 1}",
        "organization": cast.org,
        "debit": budget_account(organization=cast.org),
        "credit": tutor_account(organization=cast.org, tutor_id=cast.tutor.pk),
        "amount_cents": amount,
        "description": "Test transfer",
        "created_by": cast.agent,
    }
    kwargs.update(overrides)
    return post_transfer(**kwargs)


def assert_balances_equal_entries() -> None:
    for account in Account.objects.all():
        summed = account.entries.aggregate(total=Sum("amount_cents"))["total"] or 0
        assert balance_cents(account) == summed, account
        # A budget keeps no running balance (no row every completion must lock).
        kept = 0 if account.kind == AccountKind.ORG_BUDGET else summed
        assert account.balance_cents == kept, account
    for t in Transfer.objects.all():
        amounts = sorted(t.entries.values_list("amount_cents", flat=True))
        assert amounts == [-t.amount_cents, t.amount_cents]


def test_accounts_are_created_once_per_owner(cast: Cast) -> None:
    tutor = tutor_account(organization=cast.org, tutor_id=cast.tutor.pk)
    assert tutor_account(organization=cast.org, tutor_id=cast.tutor.pk) == tutor
    assert (tutor.kind, tutor.user, tutor.organization, tutor.currency) == (
        AccountKind.TUTOR_EARNINGS,
        cast.tutor,
        cast.org,
        "USD",
    )
    budget = budget_account(organization=cast.org)
    assert budget_account(organization=cast.org) == budget
    assert (budget.kind, budget.user, budget.balance_cents) == (AccountKind.ORG_BUDGET, None, 0)
    # Each organization has its own accounts, in its own currency.
    cast.other_org.currency = "EUR"
    cast.other_org.save()
    elsewhere = tutor_account(organization=cast.other_org, tutor_id=cast.tutor.pk)
    assert elsewhere != tutor
    assert elsewhere.currency == "EUR"
    assert Account.objects.count() == 3


def test_a_transfer_moves_money_between_two_accounts(cast: Cast) -> None:
    t = transfer(cast, 1375)
    t.refresh_from_db()
    assert (t.kind, t.amount_cents, t.currency, t.created_by) == (
        TransferKind.ADJUSTMENT,
        1375,
        "USD",
        cast.agent,
    )
    entries = {e.account.kind: e.amount_cents for e in t.entries.select_related("account")}
    assert entries == {AccountKind.TUTOR_EARNINGS: 1375, AccountKind.ORG_BUDGET: -1375}
    assert tutor_account(organization=cast.org, tutor_id=cast.tutor.pk).balance_cents == 1375
    budget = budget_account(organization=cast.org)
    assert (budget.balance_cents, balance_cents(budget)) == (0, -1375)


def test_balances_equal_the_sums_of_entries(cast: Cast) -> None:
    budget = budget_account(organization=cast.org)
    tess = tutor_account(organization=cast.org, tutor_id=cast.tutor.pk)
    otto = tutor_account(organization=cast.org, tutor_id=cast.other_tutor.pk)
    transfer(cast, 1375)
    transfer(cast, 750, credit=otto)
    transfer(cast, 1, credit=tess)
    transfer(cast, 300, kind=TransferKind.REVERSAL, debit=tess, credit=budget)
    transfer(cast, 99, debit=otto, credit=tess)
    assert_balances_equal_entries()
    tess.refresh_from_db()
    otto.refresh_from_db()
    budget.refresh_from_db()
    assert (tess.balance_cents, otto.balance_cents, balance_cents(budget)) == (1175, 651, -1826)
    assert Entry.objects.aggregate(total=Sum("amount_cents"))["total"] == 0
    assert Entry.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_post_transfer_outside_a_transaction_is_refused() -> None:
    """pytest-django wraps other tests in a transaction; this one runs in autocommit."""
    org = f.make_org()
    tutor = f.make_user()
    budget = budget_account(organization=org)
    credit = tutor_account(organization=org, tutor_id=tutor.pk)
    assert not transaction.get_connection().in_atomic_block
    with pytest.raises(RuntimeError, match="inside the caller's transaction"):
        post_transfer(
            kind=TransferKind.ADJUSTMENT,
            idempotency_key="outside",
            organization=org,
            debit=budget,
            credit=credit,
            amount_cents=100,
            description="Outside a transaction",
            created_by=None,
        )
    assert Transfer.objects.count() == 0
    assert Entry.objects.count() == 0
    assert set(Account.objects.values_list("balance_cents", flat=True)) == {0}


@pytest.mark.parametrize("amount", [0, -1, -1500])
def test_a_transfer_moves_a_positive_amount(cast: Cast, amount: int) -> None:
    with pytest.raises(ValueError, match="a transfer moves a positive amount"):
        transfer(cast, amount)
    assert Transfer.objects.count() == 0
    assert Entry.objects.count() == 0
    assert set(Account.objects.values_list("balance_cents", flat=True)) == {0}


def test_a_transfer_stays_in_one_currency(cast: Cast) -> None:
    euros = Account.objects.create(
        kind=AccountKind.TUTOR_EARNINGS, organization=cast.org, user=cast.tutor, currency="EUR"
    )
    with pytest.raises(ValueError, match="a transfer stays in one currency"):
        transfer(cast, 100, credit=euros)
    assert Transfer.objects.count() == 0


def test_the_database_refuses_a_non_positive_transfer(cast: Cast) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(
            kind=TransferKind.ADJUSTMENT,
            idempotency_key="zero",
            amount_cents=0,
            currency="USD",
            organization=cast.org,
            description="Nothing",
        )


def test_deposit_earning_pays_the_session_from_the_budget(cast: Cast, session: Session) -> None:
    with transaction.atomic():
        deposit = deposit_earning(
            organization=cast.org,
            tutor_id=cast.tutor.pk,
            session_id=session.pk,
            amount_cents=1375,
            description="CHEM 110 · 55 min at $15.00/h",
            created_by=cast.tutor,
        )
    earning = deposit.transfer
    assert deposit.tutor_balance_cents == 1375
    assert (earning.kind, earning.session_id, earning.idempotency_key) == (
        TransferKind.EARNING,
        session.pk,
        f"earning:session:{session.pk}",
    )
    assert [(m.cents, m.currency) for m in balances_of(cast.tutor)] == [(1375, "USD")]
    assert [e.transfer for e in earning_entries_of(cast.tutor)] == [earning]
    assert_balances_equal_entries()


def test_the_database_refuses_a_second_earning_for_a_session(cast: Cast, session: Session) -> None:
    transfer(cast, 1500, kind=TransferKind.EARNING, session_id=session.pk, idempotency_key="one")
    # PostgreSQL names the constraint; SQLite names its column.
    refused = r"one_earning_per_session|ledger_transfer\.session_id"
    with pytest.raises(IntegrityError, match=refused), transaction.atomic():
        transfer(
            cast, 1500, kind=TransferKind.EARNING, session_id=session.pk, idempotency_key="two"
        )
    assert Transfer.objects.count() == 1
    assert tutor_account(organization=cast.org, tutor_id=cast.tutor.pk).balance_cents == 1500
    assert_balances_equal_entries()


def test_deposit_earning_twice_for_a_session_is_refused(cast: Cast, session: Session) -> None:
    def deposit() -> Transfer:
        return deposit_earning(
            organization=cast.org,
            tutor_id=cast.tutor.pk,
            session_id=session.pk,
            amount_cents=1500,
            description="Earning",
            created_by=cast.tutor,
        ).transfer

    with transaction.atomic():
        deposit()
    with pytest.raises(IntegrityError), transaction.atomic():
        deposit()
    assert Transfer.objects.count() == 1
    assert tutor_account(organization=cast.org, tutor_id=cast.tutor.pk).balance_cents == 1500


def test_other_kinds_of_transfer_may_refer_to_a_paid_session(cast: Cast, session: Session) -> None:
    tess = tutor_account(organization=cast.org, tutor_id=cast.tutor.pk)
    budget = budget_account(organization=cast.org)
    transfer(cast, 1500, kind=TransferKind.EARNING, session_id=session.pk)
    transfer(
        cast, 1500, kind=TransferKind.REVERSAL, session_id=session.pk, debit=tess, credit=budget
    )
    transfer(cast, 1125, kind=TransferKind.ADJUSTMENT, session_id=session.pk)
    assert Transfer.objects.filter(session=session).count() == 3
    tess.refresh_from_db()
    assert tess.balance_cents == 1125
    assert_balances_equal_entries()


def test_the_database_refuses_a_duplicate_idempotency_key(cast: Cast) -> None:
    transfer(cast, 100, idempotency_key="same-key")
    with pytest.raises(IntegrityError), transaction.atomic():
        transfer(cast, 200, idempotency_key="same-key")
    assert list(Transfer.objects.values_list("amount_cents", flat=True)) == [100]
    assert tutor_account(organization=cast.org, tutor_id=cast.tutor.pk).balance_cents == 100


def test_the_database_refuses_a_zero_entry(cast: Cast) -> None:
    t = transfer(cast, 100)
    account = tutor_account(organization=cast.org, tutor_id=cast.other_tutor.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(transfer=t, account=account, amount_cents=0)


def _org_accounts_must_not_have_a_user(org: Organization, user_id: int) -> None:
    Account.objects.create(
        kind=AccountKind.ORG_BUDGET, organization=org, user_id=user_id, currency="USD"
    )


def test_the_database_refuses_accounts_with_the_wrong_owner(cast: Cast) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _org_accounts_must_not_have_a_user(cast.org, cast.tutor.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(
            kind=AccountKind.TUTOR_EARNINGS, organization=cast.org, currency="USD"
        )
    budget_account(organization=cast.org)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(kind=AccountKind.ORG_BUDGET, organization=cast.org, currency="USD")
