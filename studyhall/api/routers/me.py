"""The caller's own money: balances and transaction history."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from studyhall.api.auth import actor_of
from studyhall.api.schemas import (
    MAX_OFFSET,
    BalancesOut,
    ProblemOut,
    TransactionPage,
    transaction_out,
)
from studyhall.ledger import selectors

router = Router(tags=["me"])


@router.get("/balance", response={200: BalancesOut, 401: ProblemOut})
def balance(request: HttpRequest) -> dict[str, Any]:
    """Your earnings balance per currency, in whole cents."""
    return {
        "balances": [
            {"currency": m.currency, "amount_cents": m.cents}
            for m in selectors.balances_of(actor_of(request))
        ]
    }


@router.get("/transactions", response={200: TransactionPage, (401, 422): ProblemOut})
def transactions(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """Every posting on your earnings accounts, newest first."""
    entries = list(selectors.earning_entries_of(actor_of(request))[offset : offset + limit + 1])
    return {
        "transactions": [transaction_out(e) for e in entries[:limit]],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(entries) > limit else None,
    }
