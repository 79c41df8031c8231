"""Checks that the ledger still tells the truth. Each returns a list of readable breaches."""

from __future__ import annotations

from django.db.models import Count, F, Q, Sum

from studyhall.ledger.models import Account, Entry, Transfer


def unbalanced_transfers() -> list[str]:
    """Every transfer has two or more entries that sum to zero and move its stated amount."""
    rows = Transfer.objects.annotate(
        total=Sum("entries__amount_cents"),
        credited=Sum("entries__amount_cents", filter=Q(entries__amount_cents__gt=0)),
        legs=Count("entries"),
    ).values_list("id", "kind", "amount_cents", "total", "credited", "legs")
    problems = []
    for transfer_id, kind, amount, total, credited, legs in rows:
        if legs < 2 or (total or 0) != 0:
            problems.append(
                f"transfer {transfer_id} ({kind}) does not balance: {legs} entries summing to "
                f"{total or 0}"
            )
        elif credited != amount:
            problems.append(
                f"transfer {transfer_id} ({kind}) states {amount} but its entries move {credited}"
            )
    return problems


def mismatched_currencies() -> list[str]:
    """An entry never posts one currency to an account kept in another."""
    rows = Entry.objects.exclude(transfer__currency=F("account__currency")).values_list(
        "id", "transfer__currency", "account__currency"
    )
    return [
        f"entry {entry_id} posts {transfer_currency} to a {account_currency} account"
        for entry_id, transfer_currency, account_currency in rows
    ]


def stale_balances() -> list[str]:
    """Each account's stored balance equals the sum of its entries."""
    sums = dict(
        Entry.objects.values("account_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("account_id", "total")
    )
    return [
        f"account {account_id} shows a balance of {balance} but its entries sum to "
        f"{sums.get(account_id, 0)}"
        for account_id, balance in Account.objects.values_list("id", "balance_cents")
        if balance != sums.get(account_id, 0)
    ]


def ledger_breaches() -> list[str]:
    return [*unbalanced_transfers(), *mismatched_currencies(), *stale_balances()]
