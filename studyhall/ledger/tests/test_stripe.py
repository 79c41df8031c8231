"""Stripe Connect, driven through the real `stripe` client against a local fake Stripe:
onboarding, transfers with idempotency keys (a timeout then a retry pays once), and webhooks
whose signatures are verified."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from conftest import Cast
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import (
    Account,
    AccountKind,
    ConnectedAccount,
    Payout,
    PayoutStatus,
    Transfer,
    TransferKind,
    WebhookEvent,
)
from studyhall.ledger.payouts import NO_BANK_ACCOUNT, build_batch, run_payouts, send_payout
from studyhall.ledger.providers.stripe_connect import payout_key
from studyhall.ledger.tests.conftest import Complete, payout_event, signed_delivery
from studyhall.ledger.tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.postgres

NY = ZoneInfo("America/New_York")
WEEK = date(2025, 3, 3)
AFTER_WEEK = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
THE_DAY_BEFORE = datetime(2025, 3, 20, 12, 0, tzinfo=NY)
PAYOUT_DAY = datetime(2025, 3, 21, 9, 0, tzinfo=NY)


def connect(cast: Cast, fake: FakeStripe, *, enabled: bool = True) -> str:
    account_id = fake.add_account(payouts_enabled=enabled)
    ConnectedAccount.objects.create(
        user=cast.tutor,
        stripe_account_id=account_id,
        details_submitted=enabled,
        payouts_enabled=enabled,
    )
    return account_id


def scheduled(cast: Cast, complete: Complete) -> Payout:
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=55)
    [payout] = build_batch(
        organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK
    ).payouts
    return payout


def balance(cast: Cast, kind: AccountKind) -> int:
    user = cast.tutor if kind == AccountKind.TUTOR_EARNINGS else None
    return Account.objects.get(organization=cast.org, kind=kind, user=user).balance_cents


def assert_ledger_ok() -> None:
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


# -- onboarding ----------------------------------------------------------------------------


def test_connecting_a_bank_account_goes_through_stripes_onboarding(
    cast: Cast, fake: FakeStripe, client: Client
) -> None:
    client.force_login(cast.tutor)

    response = client.post("/earnings/settings/stripe/connect/")

    account = ConnectedAccount.objects.get(user=cast.tutor)
    assert response.status_code == 302
    assert response["Location"] == (
        f"https://connect.stripe.test/setup/e/{account.stripe_account_id}/account_onboarding"
    )
    [created] = fake.calls("POST", "/v1/accounts")
    assert created.params == {
        "type": "express",
        "email": "tutor@example.test",
        "capabilities[transfers][requested]": "true",
        "settings[payouts][schedule][interval]": "manual",
        "metadata[studyhall_user_id]": str(cast.tutor.pk),
    }
    [link] = fake.calls("POST", "/v1/account_links")
    assert link.params == {
        "account": account.stripe_account_id,
        "refresh_url": "http://testserver/earnings/settings/stripe/refresh/",
        "return_url": "http://testserver/earnings/settings/stripe/return/",
        "type": "account_onboarding",
    }
    assert (account.details_submitted, account.payouts_enabled) == (False, False)

    # Back from Stripe with the bank account added: Studyhall asks Stripe, and says so.
    fake.finish_onboarding(account.stripe_account_id)
    back = client.get("/earnings/settings/stripe/return/", follow=True)
    account.refresh_from_db()
    assert (account.details_submitted, account.payouts_enabled) == (True, True)
    assert "Your bank account is connected" in back.content.decode()
    assert "Change bank account" in back.content.decode()

    # Changing it later goes to Stripe's Express dashboard; no second account is made.
    change = client.post("/earnings/settings/stripe/connect/")
    assert change["Location"] == (
        f"https://connect.stripe.test/express/{account.stripe_account_id}/dashboard"
    )
    assert len(fake.calls("POST", "/v1/accounts")) == 1
    assert ConnectedAccount.objects.count() == 1


def test_an_expired_onboarding_link_is_renewed(cast: Cast, fake: FakeStripe, client: Client):
    client.force_login(cast.tutor)
    client.post("/earnings/settings/stripe/connect/")
    response = client.get("/earnings/settings/stripe/refresh/")
    assert response.status_code == 302
    assert len(fake.calls("POST", "/v1/account_links")) == 2
    assert len(fake.calls("POST", "/v1/accounts")) == 1


def test_a_payroll_tutor_has_nothing_to_connect(cast: Cast, fake: FakeStripe, client: Client):
    cast.org.payout_provider = "payroll"
    cast.org.save()
    client.force_login(cast.tutor)
    page = client.post("/earnings/settings/stripe/connect/", follow=True).content.decode()
    assert "pays you through its payroll" in page
    assert fake.requests == []


def test_without_stripe_configured_the_tutor_is_told(cast: Cast, client: Client, settings):
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(cast.tutor)
    told = (
        "Your program hasn&#x27;t set up bank payouts yet. Your earnings stay in your Studyhall "
        "balance and are paid once it has; nothing is lost in the meantime."
    )
    page = client.get("/earnings/settings/").content.decode()
    assert told in page
    assert "Connect bank account" not in page
    assert "STRIPE_SECRET_KEY" not in page
    # A stale form (or a typed address) gets the same words, never the server's setting.
    page = client.post("/earnings/settings/stripe/connect/", follow=True).content.decode()
    assert told in page
    assert "STRIPE_SECRET_KEY" not in page
    assert ConnectedAccount.objects.count() == 0


def test_without_stripe_configured_the_org_admin_is_warned(
    cast: Cast, client: Client, settings
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(cast.admin)
    warning = (
        "This program pays tutors through Stripe, but Stripe isn&#x27;t configured on this "
        "server (STRIPE_SECRET_KEY is empty)"
    )
    assert warning in client.get(f"/earnings/admin/{cast.org.pk}/").content.decode()
    cast.org.payout_provider = "payroll"
    cast.org.save()
    assert warning not in client.get(f"/earnings/admin/{cast.org.pk}/").content.decode()
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    cast.org.payout_provider = "stripe"
    cast.org.save()
    assert warning not in client.get(f"/earnings/admin/{cast.org.pk}/").content.decode()


# -- sending payouts -----------------------------------------------------------------------


def test_a_due_payout_is_sent_as_a_transfer_and_a_bank_payout_with_idempotency_keys(
    cast: Cast, fake: FakeStripe, complete: Complete, django_capture_on_commit_callbacks
) -> None:
    account_id = connect(cast, fake)
    payout = scheduled(cast, complete)

    assert run_payouts(now=THE_DAY_BEFORE).sent == []  # not due yet
    assert fake.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        summary = run_payouts(now=PAYOUT_DAY)

    assert summary.sent == [payout.pk]
    [transfer] = fake.calls("POST", "/v1/transfers")
    assert transfer.idempotency_key == payout_key(payout, "transfer")
    assert transfer.params == {
        "amount": "1375",
        "currency": "usd",
        "destination": account_id,
        "transfer_group": f"studyhall-payout-{payout.pk}",
        "description": f"Studyhall payout {payout.pk}",
        "metadata[studyhall_payout_id]": str(payout.pk),
    }
    [bank] = fake.calls("POST", "/v1/payouts")
    assert (bank.stripe_account, bank.idempotency_key) == (
        account_id,
        payout_key(payout, "bank"),
    )
    assert bank.params["amount"] == "1375"
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.IN_TRANSIT
    assert payout.provider_transfer_id == next(iter(fake.transfers))
    assert payout.provider_payout_id == next(iter(fake.payouts))
    assert [e.status for e in payout.events.all()] == ["scheduled", "in_transit"]
    assert mail.outbox[-1].subject == "Your Studyhall payout is on its way"
    # Sent payouts are not sent again.
    assert run_payouts(now=PAYOUT_DAY).sent == []
    assert len(fake.calls("POST", "/v1/transfers")) == 1


def test_a_timeout_then_a_retry_pays_once(
    cast: Cast, fake: FakeStripe, complete: Complete, settings
) -> None:
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    connect(cast, fake)
    payout = scheduled(cast, complete)
    # Stripe makes the transfer, but answers only after the client has stopped waiting.
    fake.delay_once("/v1/transfers", 1.0)

    first = run_payouts(now=PAYOUT_DAY)

    assert first.postponed == [payout.pk]
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SCHEDULED
    assert len(fake.transfers) == 1  # the money did move at Stripe
    assert AuditEntry.objects.filter(action="payout.send_postponed").count() == 1
    time.sleep(0.8)  # let the delayed answer finish before the retry

    second = run_payouts(now=PAYOUT_DAY)

    assert second.sent == [payout.pk]
    calls = fake.calls("POST", "/v1/transfers")
    assert [c.idempotency_key for c in calls] == [payout_key(payout, "transfer")] * 2
    assert len(fake.transfers) == 1  # the retry got the first transfer back: paid once
    assert len(fake.payouts) == 1
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.IN_TRANSIT
    assert payout.provider_transfer_id == next(iter(fake.transfers))


def test_the_stripe_client_retries_a_timeout_with_the_same_key(
    cast: Cast, fake: FakeStripe, complete: Complete, settings
) -> None:
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    connect(cast, fake)
    payout = scheduled(cast, complete)
    fake.delay_once("/v1/transfers", 1.0)

    send_payout(payout_id=payout.pk)

    calls = fake.calls("POST", "/v1/transfers")
    assert len(calls) == 2
    assert {c.idempotency_key for c in calls} == {payout_key(payout, "transfer")}
    assert len(fake.transfers) == 1
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.IN_TRANSIT


def test_a_tutor_without_a_bank_account_is_told_what_to_fix(
    cast: Cast, fake: FakeStripe, complete: Complete, django_capture_on_commit_callbacks
) -> None:
    payout = scheduled(cast, complete)

    with django_capture_on_commit_callbacks(execute=True):
        summary = run_payouts(now=PAYOUT_DAY)

    assert summary.failed == [payout.pk]
    payout.refresh_from_db()
    assert (payout.status, payout.failure_code, payout.failure_reason) == (
        PayoutStatus.FAILED,
        "no_bank_account",
        NO_BANK_ACCOUNT,
    )
    assert balance(cast, AccountKind.TUTOR_EARNINGS) == 1375
    assert balance(cast, AccountKind.PAYOUTS_PENDING) == 0
    assert fake.requests == []
    assert "Connect one under Account settings" in mail.outbox[-1].body
    assert_ledger_ok()


def test_stripe_refusing_the_transfer_fails_the_payout(
    cast: Cast, fake: FakeStripe, complete: Complete
) -> None:
    connect(cast, fake)
    payout = scheduled(cast, complete)
    fake.refuse_once(
        "/v1/transfers",
        status=400,
        code="account_invalid",
        message="The destination account cannot receive transfers.",
    )

    run_payouts(now=PAYOUT_DAY)

    payout.refresh_from_db()
    assert (payout.status, payout.failure_code, payout.failure_reason) == (
        PayoutStatus.FAILED,
        "account_invalid",
        "The destination account cannot receive transfers.",
    )
    assert balance(cast, AccountKind.TUTOR_EARNINGS) == 1375
    assert fake.transfers == {}
    assert_ledger_ok()


# -- webhooks ------------------------------------------------------------------------------


def sent_payout(cast: Cast, fake: FakeStripe, complete: Complete) -> tuple[Payout, str]:
    account_id = connect(cast, fake)
    payout = scheduled(cast, complete)
    run_payouts(now=PAYOUT_DAY)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.IN_TRANSIT
    return payout, account_id


def test_a_signed_payout_paid_webhook_marks_the_payout_paid(
    cast: Cast, fake: FakeStripe, complete: Complete, client: Client
) -> None:
    payout, account_id = sent_payout(cast, fake, complete)
    event = payout_event(
        "payout.paid",
        payout_id=payout.pk,
        stripe_payout=payout.provider_payout_id,
        account=account_id,
        status="paid",
    )

    response = signed_delivery(client, event)

    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "outcome": f"payout {payout.pk} paid"}
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert [e.status for e in payout.events.all()] == ["scheduled", "in_transit", "paid"]
    assert balance(cast, AccountKind.PAID_OUT) == 1375
    # Stripe delivers at least once: the same event again changes nothing.
    again = signed_delivery(client, event)
    assert again.json() == {"received": True, "outcome": "duplicate"}
    assert Transfer.objects.filter(kind=TransferKind.PAYOUT_SETTLED).count() == 1
    assert WebhookEvent.objects.count() == 1
    assert_ledger_ok()


def test_a_forged_signature_is_refused(
    cast: Cast, fake: FakeStripe, complete: Complete, client: Client
) -> None:
    payout, account_id = sent_payout(cast, fake, complete)
    event = payout_event(
        "payout.paid",
        payout_id=payout.pk,
        stripe_payout=payout.provider_payout_id,
        account=account_id,
    )

    forged = signed_delivery(client, event, secret="whsec_not_the_real_one")
    stale = signed_delivery(client, event, timestamp=int(time.time()) - 3600)
    unsigned = client.post(
        "/api/v1/payouts/stripe/webhook", data=b"{}", content_type="application/json"
    )

    for response in (forged, stale, unsigned):
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_signature"
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.IN_TRANSIT
    assert WebhookEvent.objects.count() == 0


def test_a_failed_payout_webhook_returns_the_money_and_takes_back_the_transfer(
    cast: Cast,
    fake: FakeStripe,
    complete: Complete,
    client: Client,
    django_capture_on_commit_callbacks,
) -> None:
    payout, account_id = sent_payout(cast, fake, complete)
    event = payout_event(
        "payout.failed",
        payout_id=payout.pk,
        stripe_payout=payout.provider_payout_id,
        account=account_id,
        status="failed",
        failure_code="account_closed",
        failure_message="The bank account has been closed.",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_delivery(client, event)

    assert response.status_code == 200
    payout.refresh_from_db()
    assert (payout.status, payout.failure_code) == (PayoutStatus.FAILED, "account_closed")
    assert payout.failure_reason == (
        "Your bank says the account is closed. Check or replace it under Account settings → "
        "Earnings & payouts."
    )
    assert balance(cast, AccountKind.TUTOR_EARNINGS) == 1375
    assert "account is closed" in mail.outbox[-1].body
    # The next run takes the transfer back from the tutor's Stripe account, once.
    assert run_payouts(now=PAYOUT_DAY).taken_back == [payout.pk]
    assert run_payouts(now=PAYOUT_DAY).taken_back == []
    [reversal] = fake.calls("POST", f"/v1/transfers/{payout.provider_transfer_id}/reversals")
    assert reversal.idempotency_key == payout_key(payout, "reversal")
    payout.refresh_from_db()
    assert payout.provider_reversal_id == next(iter(fake.reversals))
    assert_ledger_ok()


def test_an_event_from_another_account_is_ignored(
    cast: Cast, fake: FakeStripe, complete: Complete, client: Client
) -> None:
    payout, _ = sent_payout(cast, fake, complete)
    event = payout_event(
        "payout.paid",
        payout_id=payout.pk,
        stripe_payout=payout.provider_payout_id,
        account="acct_someone_else",
    )
    assert signed_delivery(client, event).json()["outcome"] == "ignored: not a Studyhall payout"
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.IN_TRANSIT


def test_account_updated_webhook_refreshes_the_connected_account(
    cast: Cast, fake: FakeStripe, client: Client
) -> None:
    account_id = connect(cast, fake, enabled=False)
    event = {
        "id": "evt_account_1",
        "object": "event",
        "type": "account.updated",
        "data": {
            "object": {
                "id": account_id,
                "object": "account",
                "details_submitted": True,
                "payouts_enabled": True,
                "requirements": {"currently_due": [], "disabled_reason": None},
            }
        },
    }
    assert signed_delivery(client, event).json()["outcome"] == "account updated"
    account = ConnectedAccount.objects.get()
    assert (account.details_submitted, account.payouts_enabled) == (True, True)
