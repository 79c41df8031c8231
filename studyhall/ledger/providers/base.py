"""What every payout provider offers, and the two ways a call to one can go wrong."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from studyhall.core.errors import DomainError

if TYPE_CHECKING:
    from studyhall.ledger.models import Payout


class ProviderUnavailable(DomainError):
    """The provider could not be reached or did not answer in time (or answered 5xx). Nothing
    is decided: the same call, with the same idempotency keys, is tried again later."""

    code = "provider_unavailable"
    title = "The payout provider did not answer"
    http_status = 503


class ProviderRefused(DomainError):
    """The provider answered and said no (no such account, payouts disabled...). The payout
    fails with this message, which tells the tutor what to fix."""

    code = "provider_refused"
    title = "The payout provider refused"
    http_status = 422

    def __init__(
        self, message: str, *, code: str | None = None, transfer_id: str = "", **extra: object
    ) -> None:
        super().__init__(message, code=code, **extra)
        # Set when money already reached the tutor's provider account before the refusal, so
        # that it can be taken back.
        self.transfer_id = transfer_id


@dataclass(frozen=True)
class Sent:
    """What the provider created for a payout: the money moved to the tutor's account there,
    and the payment to their bank (settled later, reported by webhook)."""

    transfer_id: str
    payout_id: str


class PayoutProvider(ABC):
    name: ClassVar[str]
    # True: the provider pays each payout on its date by itself; False: an org admin pays the
    # batch outside Studyhall and marks it paid.
    automatic: ClassVar[bool]

    @abstractmethod
    def send(self, payout: Payout, *, destination: str) -> Sent:
        """Pay `payout` to `destination`. Must be idempotent per payout: calling it again after
        a timeout returns what the first call created instead of paying twice."""

    @abstractmethod
    def take_back(self, payout: Payout) -> str:
        """Return a failed payout's money from the tutor's provider account; idempotent."""
