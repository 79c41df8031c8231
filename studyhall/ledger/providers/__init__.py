"""Payout providers behind one interface, chosen per organization (`payout_provider`).

A provider either sends each payout itself on its date (Stripe Connect: `automatic`), or leaves
the batch to the organization, which pays it through its own payroll and marks it paid.
"""

from __future__ import annotations

from studyhall.ledger.models import ProviderName
from studyhall.ledger.providers.base import (
    PayoutProvider,
    ProviderRefused,
    ProviderUnavailable,
    Sent,
)
from studyhall.ledger.providers.payroll import PayrollProvider

__all__ = [
    "PayoutProvider",
    "PayrollProvider",
    "ProviderRefused",
    "ProviderUnavailable",
    "Sent",
    "provider_for",
]


def provider_for(name: str) -> PayoutProvider:
    if name == ProviderName.PAYROLL:
        return PayrollProvider()
    if name == ProviderName.STRIPE:
        from studyhall.ledger.providers.stripe_connect import StripeProvider

        return StripeProvider.from_settings()
    raise ValueError(f"unknown payout provider {name!r}")
