"""The tutor's Transaction history: balances and every posting on their earnings accounts."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studyhall.accounts.models import User
from studyhall.core.money import Money
from studyhall.ledger.models import Entry, Transfer
from studyhall.ledger.selectors import balances_of, earning_entries_of


@dataclass(frozen=True)
class Row:
    transfer: Transfer
    amount: Money


@login_required
def transactions(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    entries: list[Entry] = list(earning_entries_of(user))
    rows = [Row(e.transfer, Money(e.amount_cents, e.transfer.currency)) for e in entries]
    return render(
        request, "ledger/transactions.html", {"balances": balances_of(user), "rows": rows}
    )
