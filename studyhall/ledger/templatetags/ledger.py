"""Money and payout wording for the earnings pages."""

from __future__ import annotations

from django import template

from studyhall.core.money import format_cents
from studyhall.ledger.models import PayoutStatus

register = template.Library()


@register.simple_tag
def money(cents: int, currency: str) -> str:
    return format_cents(int(cents or 0), currency)


@register.filter
def payout_status(status: str) -> str:
    return PayoutStatus(status).label
