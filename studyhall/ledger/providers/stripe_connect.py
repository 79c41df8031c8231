"""Stripe Connect: each tutor has an Express account (Stripe collects and keeps the bank
details; Studyhall stores only the account id). A payout is a transfer from the platform to the
tutor's account plus a payout from that account to their bank, each with an idempotency key
derived from the payout, so a retry after a timeout returns what the first call created.
Connected accounts use manual payouts, so that each bank payout carries our payout's id and its
`payout.paid` / `payout.failed` webhook can be matched (see `ledger.webhooks`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.conf import settings

from studyhall.ledger.providers.base import (
    PayoutProvider,
    ProviderRefused,
    ProviderUnavailable,
    Sent,
)

if TYPE_CHECKING:
    import stripe

    from studyhall.ledger.models import Payout

logger = logging.getLogger(__name__)
T = TypeVar("T")


class StripeNotConfigured(ProviderUnavailable):
    code = "stripe_not_configured"
    title = "Stripe is not set up"
    http_status = 503


@dataclass(frozen=True)
class AccountState:
    """What Stripe says about a connected account."""

    id: str
    details_submitted: bool
    payouts_enabled: bool
    requirements_due: list[str] = field(default_factory=list)
    disabled_reason: str = ""


TUTOR_NOT_CONFIGURED = (
    "Your program hasn't set up bank payouts yet. Your earnings stay in your Studyhall "
    "balance and are paid once it has; nothing is lost in the meantime."
)
ADMIN_NOT_CONFIGURED = (
    "This program pays tutors through Stripe, but Stripe isn't configured on this server "
    "(STRIPE_SECRET_KEY is empty): tutors cannot connect a bank account and payouts cannot be "
    "sent. Set the key, or switch the program to payroll."
)


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client_from_settings() -> stripe.StripeClient:
    # The client library is imported where it is used: a web worker that never pays anyone
    # out does not hold it in memory.
    import stripe

    if not settings.STRIPE_SECRET_KEY:
        raise StripeNotConfigured(
            "Stripe payouts are not set up on this server (STRIPE_SECRET_KEY is empty); ask "
            "Studyhall support."
        )
    base_addresses: dict[str, str] = {}
    if settings.STRIPE_API_BASE:
        base_addresses["api"] = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base_addresses,  # type: ignore[arg-type]
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def payout_key(payout: Payout, step: str) -> str:
    """The idempotency key of one step of one payout. The creation time keeps keys distinct
    when a development database is reset and ids start again at 1."""
    stamp = int(payout.created_at.timestamp() * 1_000_000)
    return f"studyhall-payout-{payout.pk}-{stamp}-{step}"


def _call(what: str, request: Callable[[], T]) -> T:
    """Run one Stripe request, sorting its failures into "try again" and "refused"."""
    import stripe

    try:
        return request()
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        logger.warning("Stripe did not answer %s: %s", what, exc)
        raise ProviderUnavailable(
            f"Stripe did not answer ({what}); it will be tried again with the same request."
        ) from exc
    except (stripe.AuthenticationError, stripe.PermissionError, stripe.IdempotencyError) as exc:
        # Our configuration or our keys, not the tutor's account: retry once it is fixed.
        logger.error("Stripe refused %s because of Studyhall's setup: %s", what, exc)
        raise ProviderUnavailable(f"Stripe refused {what}: {exc.user_message or exc}") from exc
    except stripe.StripeError as exc:
        raise ProviderRefused(
            str(exc.user_message or "Stripe refused the payout."),
            code=str(getattr(exc, "code", None) or "stripe_refused"),
        ) from exc


class StripeProvider(PayoutProvider):
    name: ClassVar[str] = "stripe"
    automatic: ClassVar[bool] = True

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client

    @classmethod
    def from_settings(cls) -> StripeProvider:
        return cls(client_from_settings())

    # -- onboarding ----------------------------------------------------------------------

    def create_account(self, *, user_id: int, email: str) -> AccountState:
        account = _call(
            "creating the connected account",
            lambda: self.client.v1.accounts.create(
                {
                    "type": "express",
                    "email": email,
                    "capabilities": {"transfers": {"requested": True}},
                    "settings": {"payouts": {"schedule": {"interval": "manual"}}},
                    "metadata": {"studyhall_user_id": str(user_id)},
                },
                {"idempotency_key": f"studyhall-account-user-{user_id}-{email}"},
            ),
        )
        return self._state(account)

    def account_state(self, account_id: str) -> AccountState:
        return self._state(
            _call(
                "reading the connected account",
                lambda: self.client.v1.accounts.retrieve(account_id),
            )
        )

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        link = _call(
            "creating the onboarding link",
            lambda: self.client.v1.account_links.create(
                {
                    "account": account_id,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                }
            ),
        )
        return str(link.url)

    def dashboard_link(self, *, account_id: str) -> str:
        """Express accounts change their bank account in Stripe's Express dashboard."""
        link = _call(
            "creating the dashboard link",
            lambda: self.client.v1.accounts.login_links.create(account_id),
        )
        return str(link.url)

    @staticmethod
    def _state(stripe_account: Any) -> AccountState:
        account = stripe_account.to_dict()
        requirements = account.get("requirements") or {}
        return AccountState(
            id=str(account["id"]),
            details_submitted=bool(account.get("details_submitted")),
            payouts_enabled=bool(account.get("payouts_enabled")),
            requirements_due=[str(r) for r in (requirements.get("currently_due") or [])],
            disabled_reason=str(requirements.get("disabled_reason") or ""),
        )

    # -- paying --------------------------------------------------------------------------

    def send(self, payout: Payout, *, destination: str) -> Sent:
        metadata = {"studyhall_payout_id": str(payout.pk)}
        currency = payout.currency.lower()
        transfer = _call(
            "sending the transfer",
            lambda: self.client.v1.transfers.create(
                {
                    "amount": payout.amount_cents,
                    "currency": currency,
                    "destination": destination,
                    "transfer_group": f"studyhall-payout-{payout.pk}",
                    "description": f"Studyhall payout {payout.pk}",
                    "metadata": metadata,
                },
                {"idempotency_key": payout_key(payout, "transfer")},
            ),
        )
        try:
            bank_payout = _call(
                "sending the payout to the bank",
                lambda: self.client.v1.payouts.create(
                    {
                        "amount": payout.amount_cents,
                        "currency": currency,
                        "description": f"Studyhall payout {payout.pk}",
                        "metadata": metadata,
                    },
                    {"idempotency_key": payout_key(payout, "bank"), "stripe_account": destination},
                ),
            )
        except ProviderRefused as refused:
            refused.transfer_id = str(transfer.id)
            raise
        return Sent(transfer_id=str(transfer.id), payout_id=str(bank_payout.id))

    def take_back(self, payout: Payout) -> str:
        if not payout.provider_transfer_id:
            return ""
        reversal = _call(
            "taking back the transfer",
            lambda: self.client.v1.transfers.reversals.create(
                payout.provider_transfer_id,
                {"metadata": {"studyhall_payout_id": str(payout.pk)}},
                {"idempotency_key": payout_key(payout, "reversal")},
            ),
        )
        return str(reversal.id)
