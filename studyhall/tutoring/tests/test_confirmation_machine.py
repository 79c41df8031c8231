"""A hypothesis state machine over completed sessions' money while students confirm them:
completions, confirmations, auto-confirms (time passing), whole and partial disputes,
Support's resolutions, corrections and weekly payout batches. After every step: all accounts
sum to zero, no payout includes a pending or held amount, and each session nets exactly its
current pay."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
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
from studyhall.core.errors import Conflict, InvalidInput
from studyhall.core.money import earnings_cents
from studyhall.ledger.integrity import ledger_breaches, money_created_or_lost
from studyhall.ledger.models import AccountKind, Entry, PayoutItem, PayoutStatus, TransferKind
from studyhall.ledger.payouts import mark_batch_paid, run_payouts
from studyhall.orgs.models import Role
from studyhall.testing import factories as f
from studyhall.tutoring.integrity import correction_breaches, earning_breaches, hold_breaches
from studyhall.tutoring.models import EarningHold, HoldState
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.confirmations import (
    auto_confirm_due,
    confirm_session,
    dispute_session,
    uphold_dispute,
)
from studyhall.tutoring.services.corrections import adjust_completion_minutes, void_completion

pytestmark = pytest.mark.postgres

START = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
MINUTES = st.sampled_from([10, 30, 55, 90])
RATES = [1500, 1799]
AUTO_CONFIRM = timedelta(hours=48)


class ConfirmationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        self.now = START
        self.org = f.make_org(
            time_zone="America/New_York", payout_provider="payroll", confirmations_required=True
        )
        self.admin = f.add_member(self.org, f.make_user(), Role.ADMIN)
        self.agent = f.make_user(is_support_agent=True)
        self.tutors = []
        for rate in RATES:
            tutor = f.add_member(self.org, f.make_user(), Role.TUTOR)
            f.set_rate(self.org, tutor, rate)
            self.tutors.append((tutor, rate))
        self.students = [f.add_member(self.org, f.make_user(), Role.STUDENT) for _ in range(2)]
        # session id → minutes it pays for now, its rate, its students, when it was completed
        self.minutes: dict[int, int] = {}
        self.rate: dict[int, int] = {}
        self.students_of: dict[int, list[User]] = {}
        self.unanswered: dict[int, set[int]] = {}
        self.completed_at: dict[int, datetime] = {}
        self.keys = 0

    def teardown(self) -> None:
        self.traveller.stop()
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def _key(self) -> str:
        self.keys += 1
        return f"key-{self.keys}"

    def _open(self) -> list[int]:
        return sorted(s for s, waiting in self.unanswered.items() if waiting)

    def _disputed(self) -> list[int]:
        return sorted(
            EarningHold.objects.filter(state=HoldState.DISPUTED).values_list(
                "session_id", flat=True
            )
        )

    # -- rules -------------------------------------------------------------------------------

    @initialize(minutes=MINUTES)
    def a_first_session(self, minutes: int) -> None:
        self.complete(0, minutes, 2)

    @rule(who=st.integers(0, 1), minutes=MINUTES, students=st.integers(1, 2))
    def complete(self, who: int, minutes: int, students: int) -> None:
        tutor, rate = self.tutors[who]
        people = self.students[:students]
        session = f.make_session(
            org=self.org, tutor=tutor, students=people, start=self.now - timedelta(minutes=95)
        )
        complete_session(session_id=session.pk, actor=tutor, minutes=minutes, recap=f.GOOD_RECAP)
        self.minutes[session.pk] = minutes
        self.rate[session.pk] = rate
        self.students_of[session.pk] = people
        self.unanswered[session.pk] = {p.pk for p in people}
        self.completed_at[session.pk] = self.now

    def _pick_answer(self, data: st.DataObject) -> tuple[int, User]:
        session_id = data.draw(st.sampled_from(self._open()))
        student_id = data.draw(st.sampled_from(sorted(self.unanswered[session_id])))
        student = next(s for s in self.students_of[session_id] if s.pk == student_id)
        self.unanswered[session_id].discard(student_id)
        return session_id, student

    @precondition(lambda self: self._open())
    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        session_id, student = self._pick_answer(data)
        confirm_session(session_id=session_id, actor=student)
        event("confirmed")

    @precondition(lambda self: self._open())
    @rule(data=st.data())
    def dispute_all_of_it(self, data: st.DataObject) -> None:
        session_id, student = self._pick_answer(data)
        dispute_session(
            session_id=session_id,
            actor=student,
            kind="did_not_happen",
            shorter_by_minutes=None,
            reason="The tutor never came.",
        )
        event("disputed whole")

    @precondition(lambda self: self._open())
    @rule(data=st.data(), by=st.sampled_from([5, 20, 45]))
    def dispute_part(self, data: st.DataObject, by: int) -> None:
        session_id, student = self._pick_answer(data)
        current = self.minutes[session_id]
        if by >= current:
            # Not a shorter session: refused, and the student may still answer.
            with pytest.raises((InvalidInput, Conflict)):
                dispute_session(
                    session_id=session_id,
                    actor=student,
                    kind="shorter",
                    shorter_by_minutes=by,
                    reason="We stopped early.",
                )
            self.unanswered[session_id].add(student.pk)
            return
        dispute_session(
            session_id=session_id,
            actor=student,
            kind="shorter",
            shorter_by_minutes=by,
            reason="We stopped early.",
        )
        event("disputed part")

    @rule(hours=st.sampled_from([1, 24, 49, 24 * 7]))
    def time_passes(self, hours: int) -> None:
        """Hours go by; the auto-confirm job and the payout job run as scheduled."""
        self.now += timedelta(hours=hours)
        self.clock.move_to(self.now)
        settled = auto_confirm_due(now=self.now)
        for session_id in settled:
            self.unanswered[session_id] = set()
        if settled:
            event("auto-confirmed")
        run_payouts(now=self.now)

    @precondition(lambda self: self._disputed())
    @rule(data=st.data())
    def support_upholds(self, data: st.DataObject) -> None:
        session_id = data.draw(st.sampled_from(self._disputed()))
        uphold_dispute(session_id=session_id, actor=self.agent, note="The log is right.")
        event("upheld")

    @precondition(lambda self: self.minutes)
    @rule(data=st.data(), minutes=MINUTES, void=st.booleans())
    def support_corrects(self, data: st.DataObject, minutes: int, void: bool) -> None:
        """A correction: on a disputed session it is Support's adjustment of the dispute."""
        session_id = data.draw(st.sampled_from(sorted(self.minutes)))
        current = self.minutes[session_id]
        if current == 0:
            with pytest.raises(Conflict):
                void_completion(
                    session_id=session_id, actor=self.agent, reason="x", idempotency_key="again"
                )
            return
        if void:
            void_completion(
                session_id=session_id, actor=self.agent, reason="Void", idempotency_key=self._key()
            )
            self.minutes[session_id] = 0
        elif minutes != current:
            adjust_completion_minutes(
                session_id=session_id,
                actor=self.agent,
                minutes=minutes,
                reason="Adjust",
                idempotency_key=self._key(),
            )
            self.minutes[session_id] = minutes
        event("corrected")

    @precondition(
        lambda self: PayoutItem.objects.filter(payout__status=PayoutStatus.SCHEDULED).exists()
    )
    @rule()
    def payroll_is_run(self) -> None:
        for batch_id in sorted(
            set(
                PayoutItem.objects.filter(payout__status=PayoutStatus.SCHEDULED).values_list(
                    "payout__batch_id", flat=True
                )
            )
        ):
            mark_batch_paid(batch_id=batch_id, actor=self.admin)
        event("payroll paid")

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def all_accounts_sum_to_zero(self) -> None:
        assert money_created_or_lost() == []
        assert Entry.objects.aggregate(total=Sum("amount_cents"))["total"] in (None, 0)

    @invariant()
    def the_books_hold(self) -> None:
        breaches = [
            *ledger_breaches(),
            *earning_breaches(),
            *correction_breaches(),
            *hold_breaches(),
        ]
        assert breaches == []

    @invariant()
    def each_session_nets_its_current_pay(self) -> None:
        """What the tutor has of each session, in earnings and held together."""
        net = dict(
            Entry.objects.filter(
                transfer__session_id__in=list(self.minutes),
                account__kind__in=[AccountKind.TUTOR_EARNINGS, AccountKind.TUTOR_HELD],
            )
            .values("transfer__session_id")
            .annotate(total=Sum("amount_cents"))
            .values_list("transfer__session_id", "total")
        )
        for session_id, minutes in self.minutes.items():
            expected = earnings_cents(hourly_rate_cents=self.rate[session_id], minutes=minutes)
            assert net.get(session_id, 0) == expected

    @invariant()
    def no_payout_includes_pending_or_held_money(self) -> None:
        held: dict[int, int] = defaultdict(int)
        for session_id, amount in Entry.objects.filter(
            account__kind=AccountKind.TUTOR_HELD
        ).values_list("transfer__session_id", "amount_cents"):
            held[session_id] += amount
        earned: dict[int, int] = defaultdict(int)
        in_payouts: dict[int, int] = defaultdict(int)
        for session_id, amount, paid in Entry.objects.filter(
            account__kind=AccountKind.TUTOR_EARNINGS,
            transfer__kind__in=[TransferKind.EARNING, TransferKind.HOLD, TransferKind.RELEASE],
        ).values_list("transfer__session_id", "amount_cents", "transfer__payout_item"):
            earned[session_id] += amount
            if paid is not None:
                in_payouts[session_id] += amount
        for session_id in self.minutes:
            logged = (
                Entry.objects.filter(
                    transfer__session_id=session_id,
                    transfer__kind=TransferKind.EARNING,
                    account__kind=AccountKind.TUTOR_EARNINGS,
                )
                .values_list("amount_cents", flat=True)
                .get()
            )
            # What payouts carried of the earning is at most what is no longer held.
            assert in_payouts[session_id] <= logged - held[session_id]
            assert earned[session_id] == logged - held[session_id]
            pending = bool(self.unanswered[session_id]) and (
                self.now < self.completed_at[session_id] + AUTO_CONFIRM
            )
            state = EarningHold.objects.get(session_id=session_id).state
            if pending:
                assert state == HoldState.PENDING
                assert in_payouts[session_id] == 0
            else:
                assert state != HoldState.PENDING


@pytest.mark.django_db
def test_held_money_never_leaves_early_through_any_sequence_of_events() -> None:
    run_state_machine_as_test(
        ConfirmationMachine,
        settings=hypothesis_settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
