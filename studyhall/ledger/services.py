"""Writes to the ledger. Callers own the transaction; these functions require one.

Balances: each posting adds to the running balance of the accounts that keep one, with one
`UPDATE` per account, and leaves the budget accounts (`DERIVED_BALANCE_KINDS`) alone, so that
completions in one organization never queue on its budget row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Subquery

from studyhall.ledger.models import (
    DERIVED_BALANCE_KINDS,
    Account,
    AccountKind,
    Entry,
    Transfer,
    TransferKind,
)

if TYPE_CHECKING:
    from studyhall.accounts.models import User
    from studyhall.orgs.models import Organization, Program


def tutor_account(*, organization: Organization, tutor_id: int) -> Account:
    account, _ = Account.objects.get_or_create(
        kind=AccountKind.TUTOR_EARNINGS,
        organization=organization,
        user_id=tutor_id,
        currency=organization.currency,
    )
    return account


def tutor_held_account(*, organization: Organization, tutor_id: int) -> Account:
    account, _ = Account.objects.get_or_create(
        kind=AccountKind.TUTOR_HELD,
        organization=organization,
        user_id=tutor_id,
        currency=organization.currency,
    )
    return account


def hold_earnings(
    *,
    organization: Organization,
    tutor_id: int,
    session_id: int,
    amount_cents: int,
    idempotency_key: str,
    description: str,
    created_by: User | None,
) -> Transfer:
    """Set part of a tutor's earnings aside (earnings → held) until it is released."""
    return post_transfer(
        kind=TransferKind.HOLD,
        idempotency_key=idempotency_key,
        organization=organization,
        debit=tutor_account(organization=organization, tutor_id=tutor_id),
        credit=tutor_held_account(organization=organization, tutor_id=tutor_id),
        amount_cents=amount_cents,
        description=description,
        created_by=created_by,
        session_id=session_id,
    )


def release_held(
    *,
    organization: Organization,
    tutor_id: int,
    session_id: int,
    amount_cents: int,
    idempotency_key: str,
    description: str,
    created_by: User | None,
) -> Transfer:
    """Give held earnings back to the tutor's earnings, where the next payout finds them."""
    return post_transfer(
        kind=TransferKind.RELEASE,
        idempotency_key=idempotency_key,
        organization=organization,
        debit=tutor_held_account(organization=organization, tutor_id=tutor_id),
        credit=tutor_account(organization=organization, tutor_id=tutor_id),
        amount_cents=amount_cents,
        description=description,
        created_by=created_by,
        session_id=session_id,
    )


def budget_account(*, organization: Organization) -> Account:
    return org_account(organization=organization, kind=AccountKind.ORG_BUDGET)


def program_account(*, program: Program) -> Account:
    """The account a program's spending is posted to (created on first use)."""
    organization = program.organization
    account, _ = Account.objects.get_or_create(
        kind=AccountKind.PROGRAM_BUDGET,
        organization=organization,
        program=program,
        user=None,
        currency=organization.currency,
    )
    return account


def funding_account(*, earning: Transfer) -> Account:
    """The budget a session's earning drew on: its corrections move money against it too."""
    debit = Entry.objects.filter(transfer=earning, amount_cents__lt=0).select_related("account")
    found = debit.first()
    if found is None:  # pragma: no cover - every earning has its debit leg
        raise RuntimeError(f"earning {earning.pk} has no debit entry")
    return found.account


def org_account(*, organization: Organization, kind: AccountKind) -> Account:
    """One of the organization's own accounts: its budget, pending payouts, or paid out."""
    account, _ = Account.objects.get_or_create(
        kind=kind,
        organization=organization,
        user=None,
        currency=organization.currency,
    )
    return account


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger postings must run inside the caller's transaction")


def post_transfer(
    *,
    kind: TransferKind,
    idempotency_key: str,
    organization: Organization,
    debit: Account,
    credit: Account,
    amount_cents: int,
    description: str,
    created_by: User | None,
    session_id: int | None = None,
) -> Transfer:
    """Move `amount_cents` from `debit` to `credit`, updating the balances kept in rows.

    Kept balances are updated in ascending account id order so that two transfers touching the
    same pair of accounts lock rows in the same order and cannot deadlock.
    """
    _require_transaction()
    _check_amount(amount_cents)
    if debit.currency != credit.currency or debit.currency != organization.currency:
        raise ValueError("a transfer stays in one currency")
    transfer = Transfer.objects.create(
        kind=kind,
        idempotency_key=idempotency_key,
        amount_cents=amount_cents,
        currency=organization.currency,
        organization=organization,
        session_id=session_id,
        description=description,
        created_by=created_by,
    )
    legs = sorted([(debit, -amount_cents), (credit, amount_cents)], key=lambda leg: leg[0].pk)
    Entry.objects.bulk_create(
        [Entry(transfer=transfer, account=account, amount_cents=amount) for account, amount in legs]
    )
    for account, amount in legs:
        if account.kind not in DERIVED_BALANCE_KINDS:
            Account.objects.filter(pk=account.pk).update(balance_cents=F("balance_cents") + amount)
    return transfer


def _check_amount(amount_cents: int) -> None:
    if amount_cents <= 0:
        raise ValueError("a transfer moves a positive amount")


@dataclass
class Deposit:
    # The earning (its organization and amount are the transfer's).
    transfer: Transfer
    tutor_id: int
    tutor_account_id: int
    # The tutor's earnings balance right after this deposit; None until `settle` adds it.
    tutor_balance_cents: int | None = None

    def settle(self) -> int:
        """Add the earning to the tutor's kept balance (once; again is a no-op) and return
        the new balance. This takes the tutor's account row lock, which every other deposit
        to this tutor then waits for until the caller commits."""
        if self.tutor_balance_cents is None:
            updated = _update_returning(
                organization=self.transfer.organization,
                tutor_id=self.tutor_id,
                amount_cents=self.transfer.amount_cents,
                account_id=self.tutor_account_id,
            )
            if updated is None:
                raise RuntimeError(
                    f"account {self.tutor_account_id} is not the tutor's earnings account"
                )
            self.tutor_balance_cents = updated[1]
        return self.tutor_balance_cents


def deposit_earning(
    *,
    organization: Organization,
    tutor_id: int,
    session_id: int,
    amount_cents: int,
    description: str,
    created_by: User | None,
    program: Program | None = None,
    program_account_id: int | None = None,
    tutor_account_id: int | None = None,
    settle: bool = True,
) -> Deposit:
    """Pay a completed session from the budget of the program that covers it (the
    organization's own budget when there is none) into the tutor's account.

    Four statements once both accounts exist: the budget account's id (read, never locked),
    the transfer, its two entries and the tutor's balance (`UPDATE … RETURNING`, the only row
    locked). The caller may pass the ids it read with the program or its session
    (`program_account_id_expression`, `tutor_account_id_expression`; None where the account
    does not exist yet, and it is read or created here): with both, three statements.

    With `settle=False` the tutor's balance is left for the caller to add with
    `Deposit.settle()` as the last statement before its commit, so that the row stays locked
    only for that statement and the commit (every completion of one tutor queues on it). A
    caller that forgot would leave the balance short of its entries, which `check_ledger`
    reports.
    """
    _require_transaction()
    _check_amount(amount_cents)
    if program is None:
        budget_id = _org_account_id(organization=organization, kind=AccountKind.ORG_BUDGET)
    elif program_account_id is not None:
        budget_id = program_account_id
    else:
        budget_id = _program_account_id(organization=organization, program=program)
    balance: int | None = None
    if tutor_account_id is None:
        # The first earning creates the account, with this amount already in its balance.
        tutor_account_id, balance = _add_to_tutor_balance(
            organization=organization, tutor_id=tutor_id, amount_cents=amount_cents
        )
    transfer = Transfer.objects.create(
        kind=TransferKind.EARNING,
        idempotency_key=f"earning:session:{session_id}",
        amount_cents=amount_cents,
        currency=organization.currency,
        organization=organization,
        session_id=session_id,
        description=description,
        created_by=created_by,
    )
    Entry.objects.bulk_create(
        [
            Entry(transfer=transfer, account_id=budget_id, amount_cents=-amount_cents),
            Entry(transfer=transfer, account_id=tutor_account_id, amount_cents=amount_cents),
        ]
    )
    deposit = Deposit(
        transfer=transfer,
        tutor_id=tutor_id,
        tutor_account_id=tutor_account_id,
        tutor_balance_cents=balance,
    )
    if settle:
        deposit.settle()
    return deposit


def tutor_account_id_expression() -> Subquery:
    """The id of the session's tutor's earnings account in its organization's currency (the
    one `deposit_earning` pays into), as an annotation on sessions; None until it exists."""
    found = Account.objects.filter(
        kind=AccountKind.TUTOR_EARNINGS,
        organization_id=OuterRef("organization_id"),
        user_id=OuterRef("tutor_id"),
        currency=OuterRef("organization__currency"),
    ).values("pk")[:1]
    return Subquery(found)


def _org_account_id(*, organization: Organization, kind: AccountKind) -> int:
    found = (
        Account.objects.filter(
            kind=kind,
            organization=organization,
            user=None,
            program=None,
            currency=organization.currency,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if found is not None:
        return found
    return org_account(organization=organization, kind=kind).pk


def program_account_id_expression(
    *, program_field: str = "pk", currency: str | None = None
) -> Subquery:
    """The id of a program's budget account (the one `deposit_earning` pays from), as an
    annotation on a row that names the program (a program, or a session through
    `program_field="program_id"`); in `currency`, or else the row's organization's. None
    until the account exists."""
    found = Account.objects.filter(
        kind=AccountKind.PROGRAM_BUDGET,
        program_id=OuterRef(program_field),
        currency=OuterRef("organization__currency") if currency is None else currency,
    ).values("pk")[:1]
    return Subquery(found)


def _program_account_id(*, organization: Organization, program: Program) -> int:
    found = (
        Account.objects.filter(
            kind=AccountKind.PROGRAM_BUDGET, program=program, currency=organization.currency
        )
        .values_list("pk", flat=True)
        .first()
    )
    if found is not None:
        return found
    return program_account(program=program).pk


def _add_to_tutor_balance(
    *, organization: Organization, tutor_id: int, amount_cents: int
) -> tuple[int, int]:
    """Add to the tutor's earnings balance in one statement, creating the account the first
    time; returns the account's id and its new balance."""
    updated = _update_returning(
        organization=organization, tutor_id=tutor_id, amount_cents=amount_cents
    )
    if updated is not None:
        return updated
    try:
        with transaction.atomic():
            Account.objects.create(
                kind=AccountKind.TUTOR_EARNINGS,
                organization=organization,
                user_id=tutor_id,
                currency=organization.currency,
            )
    except IntegrityError:
        pass  # a concurrent first earning created it: add to that one
    updated = _update_returning(
        organization=organization, tutor_id=tutor_id, amount_cents=amount_cents
    )
    if updated is None:  # pragma: no cover - the row was just created or found
        raise RuntimeError("the tutor's earnings account could not be created")
    return updated


def _update_returning(
    *, organization: Organization, tutor_id: int, amount_cents: int, account_id: int | None = None
) -> tuple[int, int] | None:
    # The ORM's update() cannot return the new value; SQLite (3.35+) and PostgreSQL both
    # support UPDATE … RETURNING, with the same quoting of names.
    sql = (
        'UPDATE "ledger_account" SET "balance_cents" = "balance_cents" + %s '
        'WHERE "kind" = %s AND "organization_id" = %s AND "user_id" = %s AND "currency" = %s '
    )
    params: list[int | str] = [
        amount_cents,
        AccountKind.TUTOR_EARNINGS.value,
        organization.pk,
        tutor_id,
        organization.currency,
    ]
    if account_id is not None:
        sql += 'AND "id" = %s '
        params.append(account_id)
    sql += 'RETURNING "id", "balance_cents"'
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else (int(row[0]), int(row[1]))
