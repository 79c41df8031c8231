"""Connecting a tutor's bank account through Stripe Connect's hosted onboarding.

Studyhall never sees the bank details: it creates an Express account for the tutor, sends
them to Stripe's onboarding (or, once onboarded, to Stripe's Express dashboard to change the
bank account), and remembers only the account id and what Stripe says about it.
"""

from __future__ import annotations

from django.db import transaction

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Forbidden
from studyhall.ledger.models import ConnectedAccount, ProviderName
from studyhall.ledger.providers.stripe_connect import (
    TUTOR_NOT_CONFIGURED,
    AccountState,
    StripeNotConfigured,
    StripeProvider,
    stripe_configured,
)
from studyhall.orgs.models import Membership, Role


def _require_stripe_tutor(actor: User) -> None:
    if not Membership.objects.filter(
        user=actor, role=Role.TUTOR, organization__payout_provider=ProviderName.STRIPE
    ).exists():
        raise Forbidden(
            "Your program pays you through its payroll, so there is no bank account to "
            "connect here."
        )


def bank_account_link(
    *, actor: User, refresh_url: str, return_url: str, provider: StripeProvider | None = None
) -> str:
    """Where to send the tutor: Stripe's onboarding until it is complete, then Stripe's
    dashboard, where the bank account is changed."""
    _require_stripe_tutor(actor)
    if provider is None and not stripe_configured():
        raise StripeNotConfigured(TUTOR_NOT_CONFIGURED)
    provider = provider or StripeProvider.from_settings()
    account = ConnectedAccount.objects.filter(user=actor).first()
    if account is None:
        state = provider.create_account(user_id=actor.pk, email=actor.email)
        with transaction.atomic():
            account, created = ConnectedAccount.objects.get_or_create(
                user=actor, defaults={"stripe_account_id": state.id}
            )
            if created:
                _store(account, state)
                audit.record(
                    actor=actor, action="payouts.stripe_account_created", stripe_account=state.id
                )
    if account.details_submitted:
        return provider.dashboard_link(account_id=account.stripe_account_id)
    return provider.onboarding_link(
        account_id=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )


def refresh_connected_account(
    *, actor: User, provider: StripeProvider | None = None
) -> ConnectedAccount | None:
    """Ask Stripe where the tutor's account stands (after they return from onboarding)."""
    account = ConnectedAccount.objects.filter(user=actor).first()
    if account is None:
        return None
    provider = provider or StripeProvider.from_settings()
    state = provider.account_state(account.stripe_account_id)
    with transaction.atomic():
        account = ConnectedAccount.objects.select_for_update().get(pk=account.pk)
        was_enabled = account.payouts_enabled
        _store(account, state)
        if account.payouts_enabled != was_enabled:
            audit.record(
                actor=actor,
                action="payouts.stripe_account_updated",
                stripe_account=account.stripe_account_id,
                payouts_enabled=account.payouts_enabled,
            )
    return account


def _store(account: ConnectedAccount, state: AccountState) -> None:
    account.details_submitted = state.details_submitted
    account.payouts_enabled = state.payouts_enabled
    account.requirements_due = state.requirements_due
    account.disabled_reason = state.disabled_reason[:255]
    account.save()
