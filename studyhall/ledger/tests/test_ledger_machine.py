"""A hypothesis state machine over the life of tutors' money: completions (and their duplicate
submissions), voids, minute changes, the passing of days, weekly payout runs, and Stripe
answering paid, failed, or too late (a timeout, then a retry). After every step the books must
hold: all accounts sum to zero, each session nets exactly its current pay (so at most one
earning), each payout pays exactly its earnings, and every tutor's money is either in their
balance or in a live payout."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe
import time_machine
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from studyhall.accounts.models import User
from studyhall.core.errors import Conflict
from studyhall.core.money import earnings_cents
from studyhall.ledger.integrity import ledger_breaches, money_created_or_lost
from studyhall.ledger.models import (
    Account,
    AccountKind,
    ConnectedAccount,
    Entry,
    Payout,
    PayoutBatch,
    PayoutStatus,
    Transfer,
)
from studyhall.ledger.payouts import mark_batch_paid, run_payouts
from studyhall.ledger.tests.conftest import WEBHOOK_SECRET
from studyhall.ledger.tests.fake_stripe import FakeStripe
from studyhall.ledger.webhooks import handle_stripe_event
from studyhall.orgs.models import Organization, Role
from studyhall.testing import factories as f
from studyhall.tutoring.integrity import correction_breaches, earning_breaches
from studyhall.tutoring.models import Session
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.corrections import adjust_completion_minutes, void_completion

pytestmark = pytest.mark.postgres

START = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
MINUTES = st.sampled_from([5, 30, 55, 90])
RATES = [1500, 1799, 1000]


class PayoutMachine(RuleBasedStateMachine):
    def __init__(self, fake: FakeStripe) -> None:
        super().__init__()
        self.fake = fake
        fake.reset()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        self.now = START
        self.stripe_org = f.make_org(time_zone="America/New_York")
        self.payroll_org = f.make_org(time_zone="America/Los_Angeles", payout_provider="payroll")
        self.admin = f.add_member(self.payroll_org, f.make_user(), Role.ADMIN)
        self.agent = f.make_user(is_support_agent=True)
        self.student = f.make_user()
        self.tutors: list[tuple[User, Organization]] = []
        for index, org in enumerate([self.stripe_org, self.stripe_org, self.payroll_org]):
            tutor = f.add_member(org, f.make_user(), Role.TUTOR)
            f.set_rate(org, tutor, RATES[index])
            f.add_member(org, self.student, Role.STUDENT)
            self.tutors.append((tutor, org))
        # The first tutor has a bank account at Stripe; the second never connects one.
        ConnectedAccount.objects.create(
            user=self.tutors[0][0],
            stripe_account_id=fake.add_account(),
            details_submitted=True,
            payouts_enabled=True,
        )
        # session id → (minutes it pays for now, hourly rate, idempotency key)
        self.sessions: dict[int, tuple[int, int, str]] = {}
        self.keys = 0

    def teardown(self) -> None:
        self.traveller.stop()
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def _key(self) -> str:
        self.keys += 1
        return f"key-{self.keys}"

    # -- rules -----------------------------------------------------------------------------

    @initialize(minutes=MINUTES)
    def every_tutor_has_worked(self, minutes: int) -> None:
        """Start with money to pay out, so that short runs still reach the payouts."""
        for who in range(len(self.tutors)):
            self.complete_a_session(who, minutes)

    @rule(who=st.integers(0, 2), minutes=MINUTES)
    def complete_a_session(self, who: int, minutes: int) -> None:
        tutor, org = self.tutors[who]
        session = f.make_session(
            org=org,
            tutor=tutor,
            students=[self.student],
            start=self.now - timedelta(minutes=95),
        )
        key = self._key()
        complete_session(
            session_id=session.pk,
            actor=tutor,
            minutes=minutes,
            recap=f.GOOD_RECAP,
            idempotency_key=key,
        )
        self.sessions[session.pk] = (minutes, RATES[who], key)

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), same_key=st.booleans())
    def submit_again(self, data: st.DataObject, same_key: bool) -> None:
        session_id = data.draw(st.sampled_from(sorted(self.sessions)))
        _, _, key = self.sessions[session_id]
        tutor = Session.objects.get(pk=session_id).tutor
        transfers = Transfer.objects.count()
        if same_key:
            result = complete_session(
                session_id=session_id,
                actor=tutor,
                minutes=30,
                recap=f.GOOD_RECAP,
                idempotency_key=key,
            )
            assert result.replayed
        else:
            with pytest.raises(Conflict):
                complete_session(session_id=session_id, actor=tutor, minutes=30, recap=f.GOOD_RECAP)
        assert Transfer.objects.count() == transfers

    @precondition(lambda self: self.sessions)
    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        session_id = data.draw(st.sampled_from(sorted(self.sessions)))
        minutes, rate, key = self.sessions[session_id]
        if minutes == 0:
            with pytest.raises(Conflict):
                void_completion(
                    session_id=session_id, actor=self.agent, reason="x", idempotency_key="again"
                )
            return
        void_completion(
            session_id=session_id, actor=self.agent, reason="Void", idempotency_key=self._key()
        )
        self.sessions[session_id] = (0, rate, key)

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), minutes=MINUTES)
    def adjust(self, data: st.DataObject, minutes: int) -> None:
        session_id = data.draw(st.sampled_from(sorted(self.sessions)))
        current, rate, key = self.sessions[session_id]
        if current in (0, minutes):
            return
        adjust_completion_minutes(
            session_id=session_id,
            actor=self.agent,
            minutes=minutes,
            reason="Adjust",
            idempotency_key=self._key(),
        )
        self.sessions[session_id] = (minutes, rate, key)

    @rule(days=st.sampled_from([1, 3, 7, 14]), slow=st.booleans())
    def time_passes(self, days: int, slow: bool) -> None:
        """Days go by, and the scheduler runs the payout job as it would."""
        self.now += timedelta(days=days)
        self.clock.move_to(self.now)
        self.run_the_payout_job(slow)

    @rule(slow=st.booleans())
    def run_the_payout_job(self, slow: bool) -> None:
        if slow:
            # Stripe does the next transfer but answers after the client gave up.
            self.fake.delay_once("/v1/transfers", 0.25)
        summary = run_payouts(now=self.now)
        for outcome in ("sent", "failed", "postponed", "taken_back"):
            if getattr(summary, outcome):
                event(f"payout job: {outcome}")

    @precondition(lambda self: Payout.objects.filter(status=PayoutStatus.IN_TRANSIT).exists())
    @rule(data=st.data(), paid=st.booleans())
    def stripe_reports(self, data: st.DataObject, paid: bool) -> None:
        payout = data.draw(
            st.sampled_from(list(Payout.objects.filter(status=PayoutStatus.IN_TRANSIT)))
        )
        account = ConnectedAccount.objects.get(user=payout.tutor_id).stripe_account_id
        stripe_event = {
            "id": f"evt_{payout.pk}_{paid}_{self.keys}",
            "type": "payout.paid" if paid else "payout.failed",
            "account": account,
            "data": {
                "object": {
                    "id": payout.provider_payout_id,
                    "metadata": {"studyhall_payout_id": str(payout.pk)},
                    "failure_code": None if paid else "account_closed",
                }
            },
        }
        payload = json.dumps(stripe_event).encode()
        header = stripe.WebhookSignature.generate_signature_header(payload.decode(), WEBHOOK_SECRET)
        handle_stripe_event(payload=payload, signature=header)
        self.keys += 1
        payout.refresh_from_db()
        assert payout.status == (PayoutStatus.PAID if paid else PayoutStatus.FAILED)
        event("stripe paid" if paid else "stripe failed")

    @precondition(
        lambda self: Payout.objects.filter(
            status=PayoutStatus.SCHEDULED, batch__provider="payroll"
        ).exists()
    )
    @rule()
    def payroll_is_run(self) -> None:
        batch = PayoutBatch.objects.filter(
            provider="payroll", payouts__status=PayoutStatus.SCHEDULED
        ).first()
        assert batch is not None
        assert mark_batch_paid(batch_id=batch.pk, actor=self.admin)
        event("payroll paid")

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def all_accounts_sum_to_zero(self) -> None:
        assert money_created_or_lost() == []
        assert Entry.objects.aggregate(total=Sum("amount_cents"))["total"] in (None, 0)

    @invariant()
    def the_books_hold(self) -> None:
        assert [*ledger_breaches(), *earning_breaches(), *correction_breaches()] == []

    @invariant()
    def each_session_nets_at_most_one_earning(self) -> None:
        net = dict(
            Entry.objects.filter(
                transfer__session_id__in=list(self.sessions),
                account__kind=AccountKind.TUTOR_EARNINGS,
            )
            .values("transfer__session_id")
            .annotate(total=Sum("amount_cents"))
            .values_list("transfer__session_id", "total")
        )
        for session_id, (minutes, rate, _) in self.sessions.items():
            assert net.get(session_id, 0) == earnings_cents(hourly_rate_cents=rate, minutes=minutes)

    @invariant()
    def payouts_pay_exactly_their_earnings(self) -> None:
        """Every cent a tutor earned is in their balance or in a payout that has not failed."""
        earned: Counter[int] = Counter()
        tutor_of = dict(
            Session.objects.filter(pk__in=list(self.sessions)).values_list("pk", "tutor_id")
        )
        for session_id, (minutes, rate, _) in self.sessions.items():
            earned[tutor_of[session_id]] += earnings_cents(hourly_rate_cents=rate, minutes=minutes)
        balances = dict(
            Account.objects.filter(kind=AccountKind.TUTOR_EARNINGS).values_list(
                "user_id", "balance_cents"
            )
        )
        live = dict(
            Payout.objects.exclude(status=PayoutStatus.FAILED)
            .values("tutor_id")
            .annotate(total=Sum("amount_cents"))
            .values_list("tutor_id", "total")
        )
        for tutor, _ in self.tutors:
            assert balances.get(tutor.pk, 0) + live.get(tutor.pk, 0) == earned[tutor.pk]


@pytest.mark.django_db
def test_money_stays_exact_through_any_sequence_of_events(fake: FakeStripe, settings: Any) -> None:
    settings.STRIPE_TIMEOUT_SECONDS = 0.1
    run_state_machine_as_test(
        lambda: PayoutMachine(fake),  # type: ignore[arg-type]
        settings=hypothesis_settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
