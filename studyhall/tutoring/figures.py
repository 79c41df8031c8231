"""A completed session's figures as they stand: the current minutes and earnings after every
correction, with what was logged and each correction kept beneath them. Pages, the API and
exports all lead with these, so a corrected session never shows its old pay first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from studyhall.tutoring.models import Completion, Correction, CorrectionKind


@dataclass(frozen=True)
class Figures:
    # What the session counts and pays for now (0 minutes once voided).
    minutes: int
    amount_cents: int
    # As the tutor logged it.
    logged_minutes: int
    logged_amount_cents: int
    # Oldest first.
    corrections: Sequence[Correction]
    currency: str

    @property
    def corrected(self) -> bool:
        return bool(self.corrections)

    @property
    def voided(self) -> bool:
        return bool(self.corrections) and self.corrections[-1].kind == CorrectionKind.VOID


def figures_of(completion: Completion, corrections: Sequence[Correction]) -> Figures:
    """`corrections` are the session's, in any order; the completion's earning must be loaded."""
    ordered = sorted(corrections, key=lambda c: (c.created_at, c.pk))
    earning = completion.earning
    latest = ordered[-1] if ordered else None
    return Figures(
        minutes=latest.minutes_after if latest else completion.minutes,
        amount_cents=latest.amount_after_cents if latest else earning.amount_cents,
        logged_minutes=completion.minutes,
        logged_amount_cents=earning.amount_cents,
        corrections=ordered,
        currency=earning.currency,
    )
