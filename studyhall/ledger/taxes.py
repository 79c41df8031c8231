"""Yearly tax figures: what a tutor was paid in a calendar year, and which forms that calls for.

Forms follow payments, not earnings: a session earned in December and paid in January counts
in January's year. Organizations that pay through payroll report wages on a W-2, so their
tutors get an hours-and-pay summary instead of a 1099 flag.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from studyhall.core.money import Money
from studyhall.orgs.models import Organization, PayoutProvider

# Years a page or a URL can ask about; anything else is not a year anyone was paid in.
FIRST_YEAR = 1900
LAST_YEAR = 2999


def valid_year(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def federal_threshold_cents(year: int) -> int:
    """The federal 1099-NEC threshold for payments made in `year`."""
    applicable = [
        cents for since, cents in settings.STUDYHALL_FEDERAL_1099_THRESHOLDS if since <= year
    ]
    return applicable[-1] if applicable else 0


@dataclass(frozen=True)
class TaxFlag:
    label: str
    threshold: Money


def pays_through_payroll(organization: Organization) -> bool:
    return organization.payout_provider == PayoutProvider.PAYROLL


def tax_flags(organization: Organization, year: int, paid: Money) -> list[TaxFlag]:
    """The 1099s a US program files for a payee paid `paid` in `year`: federal at its
    threshold for that year, and the state's where the organization set one."""
    if paid.currency != "USD" or pays_through_payroll(organization):
        return []
    flags = []
    federal = federal_threshold_cents(year)
    if federal and paid.cents >= federal:
        flags.append(TaxFlag("Federal 1099-NEC", Money(federal, "USD")))
    state = organization.state_1099_threshold_cents
    if state is not None and paid.cents >= state:
        flags.append(TaxFlag("State 1099", Money(state, "USD")))
    return flags


def hours_label(minutes: int) -> str:
    """Minutes as hours with two decimals, as payroll systems take them: 95 → '1.58 h'."""
    hundredths = (minutes * 100 + 30) // 60
    return f"{hundredths // 100}.{hundredths % 100:02d} h"
