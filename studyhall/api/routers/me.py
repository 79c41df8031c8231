"""The caller's own money: balances, transaction history with payouts, and payouts."""

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.params.functions import Query

from studyhall.api.auth import actor_of
from studyhall.api.routers.payouts import HistoryPage, PayoutPage, history_out, payout_out
from studyhall.api.schemas import MAX_OFFSET, BalancesOut, ProblemOut
from studyhall.ledger import selectors

router = Router(tags=["me"])


@router.get("/balance", response={200: BalancesOut, 401: ProblemOut})
def balance(request: HttpRequest) -> dict[str, Any]:
    """Your earnings balance per currency, in whole cents (negative after a correction to
    money already paid out; the next payout takes it back)."""
    return {
        "balances": [
            {"currency": m.currency, "amount_cents": m.cents}
            for m in selectors.balances_of(actor_of(request))
        ]
    }


@router.get("/transactions", response={200: HistoryPage, (401, 422): ProblemOut})
def transactions(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    """Every posting on your earnings accounts, newest first: earnings (with how each was
    computed and the payout it is in), corrections, and payouts. `since` and `until` (both
    YYYY-MM-DD, inclusive, in your time zone) narrow it to those days."""
    actor = actor_of(request)
    start, end = selectors.day_range(since, until, actor.zone)
    entries = list(
        selectors.earning_entries_of(actor, since=start, until=end)[offset : offset + limit + 1]
    )
    return {
        "transactions": [history_out(selectors.history_row(e)) for e in entries[:limit]],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(entries) > limit else None,
    }


@router.get("/payouts", response={200: PayoutPage, (401, 422): ProblemOut})
def payouts(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """Your payouts, newest week first, with their state and history."""
    rows = list(selectors.payouts_of(actor_of(request))[offset : offset + limit + 1])
    return {
        "payouts": [payout_out(p) for p in rows[:limit]],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(rows) > limit else None,
    }
