"""Payroll export: the organization pays its student tutors as employees. Studyhall builds the
week's batch; an org admin downloads it as CSV (see `ledger.exports`), runs payroll, and marks
the batch paid. Nothing is sent from here."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from studyhall.core.errors import Conflict
from studyhall.ledger.providers.base import PayoutProvider, Sent

if TYPE_CHECKING:
    from studyhall.ledger.models import Payout


class PayrollProvider(PayoutProvider):
    name: ClassVar[str] = "payroll"
    automatic: ClassVar[bool] = False

    def send(self, payout: Payout, *, destination: str) -> Sent:
        raise Conflict(
            "Payroll payouts are paid by the organization; mark the batch paid instead.",
            code="payroll_is_paid_by_the_org",
        )

    def take_back(self, payout: Payout) -> str:
        # Nothing left Studyhall: the failed payout simply returns to the tutor's balance.
        return ""
