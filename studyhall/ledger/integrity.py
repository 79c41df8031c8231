"""Checks that the ledger still tells the truth. Each returns a list of readable breaches."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from studyhall.ledger.models import (
    DERIVED_BALANCE_KINDS,
    PAYABLE_KINDS,
    Account,
    AccountKind,
    Entry,
    Payout,
    PayoutEvent,
    PayoutItem,
    PayoutStatus,
    Transfer,
    TransferKind,
)


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


def _entry_sums() -> dict[int, int]:
    return dict(
        Entry.objects.values("account_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("account_id", "total")
    )


def stale_balances() -> list[str]:
    """Each kept balance equals the sum of its account's entries; an account whose balance
    is derived (a budget) keeps none."""
    sums = _entry_sums()
    problems = []
    for account_id, kind, balance in Account.objects.values_list("id", "kind", "balance_cents"):
        if kind in DERIVED_BALANCE_KINDS:
            if balance != 0:
                problems.append(
                    f"account {account_id} ({kind}) keeps a balance of {balance}, but its "
                    "balance is derived from its entries"
                )
        elif balance != sums.get(account_id, 0):
            problems.append(
                f"account {account_id} shows a balance of {balance} but its entries sum to "
                f"{sums.get(account_id, 0)}"
            )
    return problems


def money_created_or_lost() -> list[str]:
    """All accounts of one currency sum to zero: money only ever moves between them. Kept
    balances count as stored, derived ones as the sum of their entries."""
    sums = _entry_sums()
    totals: dict[str, int] = defaultdict(int)
    for account_id, kind, currency, balance in Account.objects.values_list(
        "id", "kind", "currency", "balance_cents"
    ):
        totals[currency] += sums.get(account_id, 0) if kind in DERIVED_BALANCE_KINDS else balance
    return [
        f"the {currency} accounts sum to {total}, not 0"
        for currency, total in sorted(totals.items())
        if total != 0
    ]


def payout_breaches() -> list[str]:
    """Each payout holds exactly the postings it pays, moved its amount once, and its status,
    events and transfers agree; the pending and paid-out accounts hold exactly the payouts
    in those states; a tutor's balance is exactly what no payout holds yet."""
    problems: list[str] = []
    item_sums = dict(
        PayoutItem.objects.values("payout_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("payout_id", "total")
    )
    payouts = Payout.objects.values_list(
        "id",
        "tutor_id",
        "organization_id",
        "amount_cents",
        "status",
        "transfer__kind",
        "transfer__amount_cents",
    )
    pending: dict[int, int] = defaultdict(int)
    paid: dict[int, int] = defaultdict(int)
    for payout_id, _tutor, org_id, amount, status, kind, moved in payouts:
        if item_sums.get(payout_id, 0) != amount:
            problems.append(
                f"payout {payout_id} is for {amount} but its earnings sum to "
                f"{item_sums.get(payout_id, 0)}"
            )
        if kind != TransferKind.PAYOUT or moved != amount:
            problems.append(f"payout {payout_id} of {amount} was scheduled by a {kind} of {moved}")
        if status in (PayoutStatus.SCHEDULED, PayoutStatus.IN_TRANSIT):
            pending[org_id] += amount
        elif status == PayoutStatus.PAID:
            paid[org_id] += amount
    # Each item is the posting it claims to be, on the payout's own tutor's account.
    its_posting = Entry.objects.filter(
        transfer_id=OuterRef("transfer_id"),
        account__user_id=OuterRef("payout__tutor_id"),
        account__organization_id=OuterRef("payout__organization_id"),
        account__kind=AccountKind.TUTOR_EARNINGS,
        amount_cents=OuterRef("amount_cents"),
    )
    wrong_items = PayoutItem.objects.filter(
        ~Exists(its_posting) | ~Q(transfer__kind__in=PAYABLE_KINDS)
    ).values_list("id", "payout_id", "transfer_id")
    problems.extend(
        f"payout {payout_id} holds transfer {transfer_id} (item {item_id}), which is not a "
        "posting of that amount on its tutor's earnings"
        for item_id, payout_id, transfer_id in wrong_items
    )
    events = defaultdict(list)
    for payout_id, status, kind in PayoutEvent.objects.order_by("payout_id", "id").values_list(
        "payout_id", "status", "transfer__kind"
    ):
        events[payout_id].append((status, kind))
    needs: dict[str, str] = {
        PayoutStatus.SCHEDULED: TransferKind.PAYOUT,
        PayoutStatus.PAID: TransferKind.PAYOUT_SETTLED,
        PayoutStatus.FAILED: TransferKind.PAYOUT_RETURNED,
    }
    for payout_id, _tutor, _org, _amount, status, _kind, _moved in payouts:
        history = events.get(payout_id, [])
        if not history or history[-1][0] != status:
            problems.append(
                f"payout {payout_id} is {status} but its history ends with "
                f"{history[-1][0] if history else 'nothing'}"
            )
        for event_status, kind in history:
            if needs.get(event_status) not in (None, kind):
                problems.append(
                    f"payout {payout_id} became {event_status} without a {needs[event_status]} "
                    "transfer"
                )
    for kind, expected in ((AccountKind.PAYOUTS_PENDING, pending), (AccountKind.PAID_OUT, paid)):
        for org_id, balance in Account.objects.filter(kind=kind).values_list(
            "organization_id", "balance_cents"
        ):
            if balance != expected.get(org_id, 0):
                problems.append(
                    f"organization {org_id}'s {kind} account holds {balance}, but its payouts "
                    f"in that state total {expected.get(org_id, 0)}"
                )
    unpaid = dict(
        Entry.objects.filter(
            account__kind=AccountKind.TUTOR_EARNINGS,
            transfer__kind__in=PAYABLE_KINDS,
            transfer__payout_item__isnull=True,
        )
        .values("account_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("account_id", "total")
    )
    for account_id, balance in Account.objects.filter(kind=AccountKind.TUTOR_EARNINGS).values_list(
        "id", "balance_cents"
    ):
        if balance != unpaid.get(account_id, 0):
            problems.append(
                f"tutor account {account_id} holds {balance}, but the earnings no payout holds "
                f"sum to {unpaid.get(account_id, 0)}"
            )
    return problems


def ledger_breaches() -> list[str]:
    return [
        *unbalanced_transfers(),
        *mismatched_currencies(),
        *stale_balances(),
        *money_created_or_lost(),
        *payout_breaches(),
    ]
