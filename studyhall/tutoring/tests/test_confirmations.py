"""Students confirm or dispute a completed session; the earning is held until then, a dispute
holds only the pay it is about, and Support resolves it. Exact cents throughout."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from conftest import Cast
from studyhall.core.errors import Conflict, Forbidden, InvalidInput
from studyhall.ledger.integrity import ledger_breaches
from studyhall.ledger.models import Account, AccountKind, Payout
from studyhall.ledger.payouts import build_batch
from studyhall.notifications.models import Notification
from studyhall.support.services.corrections import approve_correction, propose_correction
from studyhall.testing import factories as f
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.integrity import correction_breaches, hold_breaches
from studyhall.tutoring.models import Confirmation, EarningHold, HoldState, Session
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.confirmations import (
    auto_confirm_due,
    confirm_session,
    dispute_session,
    uphold_dispute,
)

pytestmark = pytest.mark.postgres

START = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)  # a Tuesday
WEEK = date(2025, 3, 3)


@pytest.fixture
def asking(cast: Cast) -> Cast:
    cast.org.confirmations_required = True
    cast.org.save()
    return cast


def balances(cast: Cast) -> tuple[int, int]:
    """The tutor's earnings balance and held balance."""
    rows = dict(
        Account.objects.filter(user=cast.tutor, organization=cast.org).values_list(
            "kind", "balance_cents"
        )
    )
    return rows.get(AccountKind.TUTOR_EARNINGS, 0), rows.get(AccountKind.TUTOR_HELD, 0)


def completed(cast: Cast, *, minutes: int = 60, students: int = 2) -> Session:
    """$15/h: 60 min is $15.00."""
    people = [cast.student, cast.student2][:students]
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=people, start=START)
    with time_machine.travel(START + timedelta(minutes=70), tick=False):
        complete_session(
            session_id=session.pk, actor=cast.tutor, minutes=minutes, recap=f.GOOD_RECAP
        )
    return session


def state(session: Session) -> str:
    return EarningHold.objects.get(session=session).state


def test_completion_holds_the_earning_and_asks_each_student(asking: Cast) -> None:
    session = completed(asking)
    assert balances(asking) == (0, 1500)
    assert state(session) == HoldState.PENDING
    hold = EarningHold.objects.get(session=session)
    assert hold.confirm_by == START + timedelta(minutes=70, hours=48)
    assert sorted(Confirmation.objects.values_list("student_id", "answer")) == sorted(
        [(asking.student.pk, "pending"), (asking.student2.pk, "pending")]
    )
    run_queued_tasks()
    title = (
        "Did your CHEM 110 session with Tess Tutor on Tue, Mar 4 at 3:00 PM UTC happen as logged? "
        "Confirm it, or tell us what was different."
    )
    for student in (asking.student, asking.student2):
        assert Notification.objects.get(user=student, kind="confirmation").title == title
    subjects = [m.subject for m in mail.outbox]
    assert subjects.count("Did your CHEM 110 session happen as logged?") == 2


def test_a_later_completion_holds_exactly_its_own_earning(asking: Cast) -> None:
    """Once the tutor's account exists, the deposit adds to the tutor's balance late in the
    transaction: the earning still ends up held, to the cent, and every kept balance still
    equals its entries."""
    completed(asking)
    second = completed(asking, minutes=40)
    assert balances(asking) == (0, 2500)
    assert EarningHold.objects.get(session=second).state == HoldState.PENDING
    assert ledger_breaches() == []
    assert hold_breaches() == []


def test_without_the_policy_a_later_earning_is_paid_at_once(cast: Cast) -> None:
    completed(cast)
    completed(cast, minutes=40)
    assert balances(cast) == (2500, 0)
    assert ledger_breaches() == []


def test_without_the_policy_the_earning_is_paid_at_once(cast: Cast) -> None:
    session = completed(cast)
    assert balances(cast) == (1500, 0)
    assert not EarningHold.objects.filter(session=session).exists()
    with pytest.raises(Conflict) as refused:
        confirm_session(session_id=session.pk, actor=cast.student)
    assert refused.value.code == "no_confirmation"


def test_every_student_confirming_releases_it(asking: Cast) -> None:
    session = completed(asking)
    confirm_session(session_id=session.pk, actor=asking.student)
    assert balances(asking) == (0, 1500)
    assert state(session) == HoldState.PENDING
    confirm_session(session_id=session.pk, actor=asking.student)  # a repeat changes nothing
    confirm_session(session_id=session.pk, actor=asking.student2)
    assert balances(asking) == (1500, 0)
    assert state(session) == HoldState.RELEASED
    assert hold_breaches() == []


def test_a_shorter_dispute_holds_only_its_minutes_pay(asking: Cast) -> None:
    session = completed(asking)
    confirm_session(session_id=session.pk, actor=asking.student)
    dispute_session(
        session_id=session.pk,
        actor=asking.student2,
        kind="shorter",
        shorter_by_minutes=20,
        reason="We stopped at 40 minutes.",
    )
    # 60 min is $15.00 and 40 min $10.00: $5.00 stays held, $10.00 is the tutor's.
    assert balances(asking) == (1000, 500)
    hold = EarningHold.objects.get(session=session)
    assert (hold.state, hold.disputed_minutes, hold.disputed_cents) == ("disputed", 20, 500)
    with time_machine.travel(datetime(2025, 3, 12, tzinfo=UTC), tick=False):
        result = build_batch(organization_id=asking.org.pk, week_start=WEEK, actor=None)
    [payout] = result.payouts
    assert (payout.amount_cents, payout.minutes) == (1000, 40)
    assert hold_breaches() == []

    uphold_dispute(session_id=session.pk, actor=asking.agent, note="The call log shows 60.")
    assert balances(asking) == (500, 0)  # the released $5.00 waits for the next payout
    hold.refresh_from_db()
    assert (hold.state, hold.resolution, hold.resolved_by) == ("released", "upheld", asking.agent)
    assert hold_breaches() == []


def test_support_adjusting_a_dispute_is_a_correction_with_a_second_agent(asking: Cast) -> None:
    session = completed(asking, students=1)
    dispute_session(
        session_id=session.pk,
        actor=asking.student,
        kind="shorter",
        shorter_by_minutes=20,
        reason="We stopped at 40 minutes.",
    )
    assert balances(asking) == (1000, 500)
    second = f.make_user(email="agent2@example.test", is_support_agent=True)
    proposal = propose_correction(
        actor=asking.agent,
        session_id=session.pk,
        kind="adjust_minutes",
        minutes=40,
        reason="The student's account is right.",
    )
    assert state(session) == HoldState.DISPUTED  # nothing moves before the approval
    approve_correction(actor=second, proposal_id=proposal.pk)
    assert balances(asking) == (1000, 0)
    hold = EarningHold.objects.get(session=session)
    assert (hold.state, hold.resolution) == ("released", "adjusted")
    assert hold_breaches() == [] and correction_breaches() == []


def test_it_did_not_happen_holds_all_of_it(asking: Cast) -> None:
    session = completed(asking, students=1)
    dispute_session(
        session_id=session.pk,
        actor=asking.student,
        kind="did_not_happen",
        shorter_by_minutes=None,
        reason="Nobody came.",
    )
    assert balances(asking) == (0, 1500)
    assert state(session) == HoldState.DISPUTED


def test_silence_confirms_after_48_hours(asking: Cast) -> None:
    session = completed(asking)
    dispute_session(
        session_id=session.pk,
        actor=asking.student,
        kind="shorter",
        shorter_by_minutes=5,
        reason="It ended a little early.",
    )
    due = START + timedelta(minutes=70, hours=48)
    assert auto_confirm_due(now=due - timedelta(seconds=1)) == []
    assert balances(asking) == (0, 1500)
    assert auto_confirm_due(now=due) == [session.pk]
    assert auto_confirm_due(now=due) == []  # a second run finds nothing to do
    # 55 min at $15/h is $13.75: $1.25 stays held.
    assert balances(asking) == (1375, 125)
    assert Confirmation.objects.get(student=asking.student2).answer == "auto_confirmed"


@pytest.mark.parametrize(
    ("kind", "by", "reason", "code"),
    [
        ("shorter", 60, "x", "invalid_shorter_by"),
        ("shorter", 0, "x", "invalid_shorter_by"),
        ("shorter", 7, "x", "invalid_shorter_by"),
        ("shorter", None, "x", "invalid_shorter_by"),
        ("longer", 5, "x", "invalid_dispute_kind"),
        ("shorter", 20, "   ", "reason_required"),
    ],
)
def test_a_bad_dispute_is_refused_and_nothing_changes(
    asking: Cast, kind: str, by: int | None, reason: str, code: str
) -> None:
    session = completed(asking)
    with pytest.raises(InvalidInput) as refused:
        dispute_session(
            session_id=session.pk,
            actor=asking.student,
            kind=kind,
            shorter_by_minutes=by,
            reason=reason,
        )
    assert refused.value.code == code
    assert Confirmation.objects.get(student=asking.student).answer == "pending"
    assert balances(asking) == (0, 1500)


def test_only_the_students_who_came_answer_once(asking: Cast) -> None:
    session = completed(asking)
    for who in (asking.tutor, asking.admin):
        with pytest.raises(Forbidden) as refused:
            confirm_session(session_id=session.pk, actor=who)
        assert refused.value.code == "not_a_student_who_came"
    dispute_session(
        session_id=session.pk,
        actor=asking.student,
        kind="did_not_happen",
        shorter_by_minutes=None,
        reason="Nobody came.",
    )
    with pytest.raises(Conflict) as answered:
        confirm_session(session_id=session.pk, actor=asking.student)
    assert answered.value.code == "already_answered"
    with pytest.raises(Forbidden):
        uphold_dispute(session_id=session.pk, actor=asking.admin)
    with pytest.raises(Conflict) as still_pending:
        uphold_dispute(session_id=session.pk, actor=asking.agent)
    assert still_pending.value.code == "no_open_dispute"  # still pending: Sam has not answered
    assert Payout.objects.count() == 0
