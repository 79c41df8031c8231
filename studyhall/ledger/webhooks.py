"""Stripe's webhooks: proof of where each payout and connected account stands.

Only events whose `Stripe-Signature` verifies against STRIPE_WEBHOOK_SECRET are read (an
HMAC-SHA256 over "<timestamp>.<body>", checked by the stripe library, within five minutes).
Each event is handled once: its id is stored in the same transaction as its effect, so a
redelivery is acknowledged without being applied again.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import transaction

from studyhall.core.errors import DomainError
from studyhall.ledger.models import ConnectedAccount, Payout, ProviderName, WebhookEvent
from studyhall.ledger.payouts import NO_BANK_ACCOUNT, mark_failed, mark_paid
from studyhall.ledger.providers.stripe_connect import StripeNotConfigured

FIX_YOUR_BANK = "Check or replace it under Account settings → Earnings & payouts."
# Stripe's payout failure codes, in words a tutor can act on.
FAILURE_REASONS = {
    "account_closed": "Your bank says the account is closed.",
    "account_frozen": "Your bank has frozen the account.",
    "bank_account_restricted": "Your bank account does not accept this kind of payment.",
    "bank_ownership_changed": "Your bank account's owner changed.",
    "could_not_process": "Your bank could not process the payout.",
    "debit_not_authorized": "Your bank did not authorize the payment.",
    "declined": "Your bank declined the payout.",
    "incorrect_account_holder_name": "The name on the bank account does not match yours.",
    "invalid_account_number": "The bank account number is not valid.",
    "invalid_currency": "Your bank account cannot receive this currency.",
    "no_account": "Your bank cannot find the account.",
}


class InvalidSignature(DomainError):
    code = "invalid_signature"
    title = "Webhook signature invalid"
    http_status = 400


def verified_stripe_event(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    import stripe  # imported where used, as in ledger.providers.stripe_connect

    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise StripeNotConfigured("Stripe webhooks are not set up (STRIPE_WEBHOOK_SECRET).")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=stripe.Webhook.DEFAULT_TOLERANCE
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise InvalidSignature(
            "The Stripe-Signature header does not match this payload; the event was ignored."
        ) from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise InvalidSignature("A signed payload that is not a Stripe event was ignored.")
    return event


def handle_stripe_event(*, payload: bytes, signature: str | None) -> str:
    """Verify and apply one delivery; returns what was done (for the response and the log)."""
    event = verified_stripe_event(payload=payload, signature=signature)
    event_type = str(event.get("type", ""))
    with transaction.atomic():
        record, created = WebhookEvent.objects.get_or_create(
            provider=ProviderName.STRIPE,
            event_id=event["id"],
            defaults={"type": event_type[:100]},
        )
        if not created:
            return "duplicate"
        outcome = _apply(event_type, event)
        record.outcome = outcome[:300]
        record.save(update_fields=["outcome"])
    return outcome


def _apply(event_type: str, event: dict[str, Any]) -> str:
    obj = (event.get("data") or {}).get("object") or {}
    if event_type in ("payout.paid", "payout.failed"):
        payout = _our_payout(obj, account=event.get("account"))
        if payout is None:
            return "ignored: not a Studyhall payout"
        if event_type == "payout.paid":
            mark_paid(payout_id=payout.pk, actor=None, provider_reference=str(obj.get("id", "")))
            return f"payout {payout.pk} paid"
        code = str(obj.get("failure_code") or "")
        mark_failed(
            payout_id=payout.pk,
            actor=None,
            reason=failure_reason(code, str(obj.get("failure_message") or "")),
            code=code or "stripe_failed",
            provider_reference=str(obj.get("id", "")),
        )
        return f"payout {payout.pk} failed"
    if event_type == "account.updated":
        requirements = obj.get("requirements") or {}
        updated = ConnectedAccount.objects.filter(stripe_account_id=str(obj.get("id", ""))).update(
            details_submitted=bool(obj.get("details_submitted")),
            payouts_enabled=bool(obj.get("payouts_enabled")),
            requirements_due=list(requirements.get("currently_due") or []),
            disabled_reason=str(requirements.get("disabled_reason") or "")[:255],
        )
        return "account updated" if updated else "ignored: unknown account"
    return f"ignored: {event_type}"


def _our_payout(obj: dict[str, Any], *, account: object) -> Payout | None:
    """The payout this Stripe payout carries the id of — only if it was made on that tutor's
    connected account, so one account's event cannot settle another tutor's payout."""
    raw_id = str((obj.get("metadata") or {}).get("studyhall_payout_id", ""))
    if not raw_id.isdigit():
        return None
    payout = (
        Payout.objects.select_related("tutor__connected_account")
        .filter(pk=int(raw_id), batch__provider=ProviderName.STRIPE)
        .first()
    )
    if payout is None:
        return None
    connected = getattr(payout.tutor, "connected_account", None)
    if connected is None or connected.stripe_account_id != account:
        return None
    if payout.provider_payout_id and payout.provider_payout_id != obj.get("id"):
        return None
    return payout


def failure_reason(code: str, message: str) -> str:
    if code == "no_bank_account":
        return NO_BANK_ACCOUNT
    known = FAILURE_REASONS.get(code)
    if known:
        return f"{known} {FIX_YOUR_BANK}"
    said = message.strip() or "The payout could not be paid."
    return f"{said} {FIX_YOUR_BANK}"
