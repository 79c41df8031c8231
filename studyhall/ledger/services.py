"""Writes to the ledger. Callers own the transaction; these functions require one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F

from studyhall.ledger.models import Account, AccountKind, Entry, Transfer, TransferKind

if TYPE_CHECKING:
    from studyhall.accounts.models import User
    from studyhall.orgs.models import Organization


def tutor_account(*, organization: Organization, tutor_id: int) -> Account:
    account, _ = Account.objects.get_or_create(
        kind=AccountKind.TUTOR_EARNINGS,
        organization=organization,
        user_id=tutor_id,
        currency=organization.currency,
    )
    return account


def budget_account(*, organization: Organization) -> Account:
    return org_account(organization=organization, kind=AccountKind.ORG_BUDGET)


def org_account(*, organization: Organization, kind: AccountKind) -> Account:
    """One of the organization's own accounts: its budget, pending payouts, or paid out."""
    account, _ = Account.objects.get_or_create(
        kind=kind,
        organization=organization,
        user=None,
        currency=organization.currency,
    )
    return account


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
    """Move `amount_cents` from `debit` to `credit`, updating both balances.

    Balances are updated in ascending account id order so that two transfers touching the same
    pair of accounts (two completions of one tutor) lock rows in the same order and cannot
    deadlock.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("post_transfer must run inside the caller's transaction")
    if amount_cents <= 0:
        raise ValueError("a transfer moves a positive amount")
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
        Account.objects.filter(pk=account.pk).update(balance_cents=F("balance_cents") + amount)
    return transfer


def deposit_earning(
    *,
    organization: Organization,
    tutor_id: int,
    session_id: int,
    amount_cents: int,
    description: str,
    created_by: User | None,
) -> Transfer:
    """Pay a completed session from the organization's budget into the tutor's account."""
    return post_transfer(
        kind=TransferKind.EARNING,
        idempotency_key=f"earning:session:{session_id}",
        organization=organization,
        debit=budget_account(organization=organization),
        credit=tutor_account(organization=organization, tutor_id=tutor_id),
        amount_cents=amount_cents,
        description=description,
        created_by=created_by,
        session_id=session_id,
    )
