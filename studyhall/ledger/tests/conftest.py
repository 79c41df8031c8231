"""Fixtures for the payout tests: sessions completed at chosen moments, a fake Stripe, and
signed webhook deliveries."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import stripe
import time_machine
from django.test import Client

from studyhall.accounts.models import User
from studyhall.ledger.tests import fake_stripe
from studyhall.testing import factories as f
from studyhall.tutoring.models import Session
from studyhall.tutoring.services.completion import complete_session

WEBHOOK_SECRET = "whsec_studyhall_test"

Complete = Callable[..., Session]


@pytest.fixture
def complete(cast: Any) -> Complete:
    """`complete(start, minutes=55, tutor=cast.tutor)`: a session that began at `start`,
    completed by its tutor an hour later (real service, clock moved there)."""

    def run(start: datetime, *, minutes: int = 55, tutor: User | None = None) -> Session:
        tutor = tutor or cast.tutor
        session = f.make_session(org=cast.org, tutor=tutor, students=[cast.student], start=start)
        with time_machine.travel(start + timedelta(minutes=70), tick=False):
            complete_session(
                session_id=session.pk, actor=tutor, minutes=minutes, recap=f.GOOD_RECAP
            )
        return session

    return run


@pytest.fixture
def fake(settings: Any) -> Iterator[fake_stripe.FakeStripe]:
    with fake_stripe.running() as server:
        settings.STRIPE_SECRET_KEY = fake_stripe.API_KEY
        settings.STRIPE_API_BASE = server.url
        settings.STRIPE_TIMEOUT_SECONDS = 1.0
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        yield server


def signed_delivery(
    client: Client,
    event: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
) -> Any:
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    return client.post(
        "/api/v1/payouts/stripe/webhook",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )


def payout_event(kind: str, *, payout_id: int, stripe_payout: str, account: str, **extra: Any):
    return {
        "id": f"evt_{kind}_{payout_id}_{stripe_payout}",
        "object": "event",
        "type": kind,
        "account": account,
        "created": 1_700_000_000,
        "data": {
            "object": {
                "id": stripe_payout,
                "object": "payout",
                "metadata": {"studyhall_payout_id": str(payout_id)},
                **extra,
            }
        },
    }
