"""The grace period cannot be stretched from the classroom: on a frozen clock, with presence
recorded through the real join/leave services, only a call (the tutor and a student together)
inside the classroom's opening hours moves the logging deadline, and only by its own end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.calls import services
from studyhall.core.errors import Forbidden
from studyhall.notifications.models import ReminderKind, SentReminder
from studyhall.testing import factories as f
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.models import Mode, Session, Status
from studyhall.tutoring.reminders import send_due_reminders
from studyhall.tutoring.selectors import deadline_of

# A Tuesday, 8:00–9:00 PM UTC (the test people's zone).
START = datetime(2026, 11, 17, 20, 0, tzinfo=UTC)
END = START + timedelta(minutes=60)
CLOSES = END + timedelta(minutes=90)
GRACE = timedelta(hours=72)
TUTOR_PEER = "tutor-peer-0001"
MAYA_PEER = "maya-peer-0001"


@pytest.fixture
def session(cast: Cast) -> Session:
    with time_machine.travel(START - timedelta(days=7), tick=False):
        return f.make_session(
            org=cast.org,
            tutor=cast.tutor,
            students=[cast.student],
            mode=Mode.ONLINE,
            start=START,
            minutes=60,
        )


def at(moment: datetime) -> time_machine.travel:
    return time_machine.travel(moment, tick=False)


def join(session: Session, user: User, peer: str) -> None:
    services.join(session_id=session.pk, user=user, peer_id=peer, channel_name=f"ch.{peer}")


def deadline(session: Session) -> datetime:
    return deadline_of(Session.objects.select_related("organization").get(pk=session.pk))


def test_the_tutor_alone_after_the_end_does_not_move_the_deadline(
    cast: Cast, session: Session
) -> None:
    assert deadline(session) == END + GRACE
    for minutes in (10, 45, 89):
        with at(END + timedelta(minutes=minutes)):
            join(session, cast.tutor, TUTOR_PEER)
        with at(END + timedelta(minutes=minutes, seconds=15)):
            services.leave(peer_id=TUTOR_PEER)
        assert deadline(session) == END + GRACE
    session.refresh_from_db()
    assert (session.status, session.call_started_at, session.call_ended_at) == (
        Status.SCHEDULED,
        None,
        None,
    )


def test_a_student_alone_does_not_move_it_either(cast: Cast, session: Session) -> None:
    with at(END + timedelta(minutes=30)):
        join(session, cast.student, MAYA_PEER)
    with at(END + timedelta(minutes=80)):
        services.leave(peer_id=MAYA_PEER)
    assert deadline(session) == END + GRACE


def test_the_classroom_refuses_a_join_after_its_closing_time(cast: Cast, session: Session) -> None:
    with at(CLOSES):
        join(session, cast.tutor, TUTOR_PEER)
        services.leave(peer_id=TUTOR_PEER)
    for who, peer in ((cast.tutor, TUTOR_PEER), (cast.student, MAYA_PEER)):
        with at(CLOSES + timedelta(seconds=1)), pytest.raises(Forbidden) as refused:
            join(session, who, peer)
        assert refused.value.code == "classroom_closed"
        assert str(refused.value) == (
            "This session's classroom closed on Tue, Nov 17 at 10:30 PM UTC, "
            "90 minutes after the scheduled end."
        )
    assert deadline(session) == END + GRACE


def test_a_real_call_within_the_window_moves_the_deadline_once_by_its_end(
    cast: Cast, session: Session
) -> None:
    call_start = END + timedelta(minutes=5)
    call_end = END + timedelta(minutes=40)
    with at(call_start):
        join(session, cast.tutor, TUTOR_PEER)
        join(session, cast.student, MAYA_PEER)
    with at(call_end):
        services.leave(peer_id=MAYA_PEER)
    assert deadline(session) == call_end + GRACE
    # The tutor lingering alone, then coming back alone, changes nothing.
    with at(END + timedelta(minutes=70)):
        services.leave(peer_id=TUTOR_PEER)
        join(session, cast.tutor, TUTOR_PEER)
    with at(END + timedelta(minutes=85)):
        services.leave(peer_id=TUTOR_PEER)
    assert deadline(session) == call_end + GRACE
    session.refresh_from_db()
    assert (session.call_started_at, session.call_ended_at) == (call_start, call_end)


def test_a_call_running_past_the_closing_time_counts_only_until_then(
    cast: Cast, session: Session
) -> None:
    with at(CLOSES - timedelta(seconds=30)):
        join(session, cast.tutor, TUTOR_PEER)
        join(session, cast.student, MAYA_PEER)
    # Their tabs keep heartbeating; the first heartbeat after closing sends them out.
    with at(CLOSES + timedelta(seconds=15)):
        assert services.heartbeat(peer_id=TUTOR_PEER) is True
        refusal = services.stay_or_refusal(
            session_id=session.pk, user=cast.student, peer_id=MAYA_PEER
        )
        assert refusal is not None and refusal.startswith("This session's classroom closed")
    session.refresh_from_db()
    assert session.call_ended_at == CLOSES + timedelta(seconds=15)
    assert deadline(session) == CLOSES + GRACE


def test_log_reminders_go_out_once_each_from_the_fixed_deadline(
    cast: Cast, session: Session
) -> None:
    mail.outbox.clear()
    with at(END):
        assert send_due_reminders() == 1  # "your session has ended"
        run_queued_tasks()
    call_end = END + timedelta(minutes=50)
    with at(END + timedelta(minutes=10)):
        join(session, cast.tutor, TUTOR_PEER)
        join(session, cast.student, MAYA_PEER)
    with at(call_end):
        services.leave(peer_id=MAYA_PEER)
        services.leave(peer_id=TUTOR_PEER)
        # The call moved the deadline, but the at-the-end reminder is not sent again.
        assert send_due_reminders() == 0
    fixed = call_end + GRACE
    for moment in (fixed - timedelta(hours=24), fixed - timedelta(hours=4)):
        with at(moment):
            assert send_due_reminders() == 1
            run_queued_tasks()
        with at(moment + timedelta(minutes=2)):
            assert send_due_reminders() == 0
    assert sorted(SentReminder.objects.values_list("kind", "for_moment")) == [
        (ReminderKind.LOG_24H_LEFT, fixed),
        (ReminderKind.LOG_4H_LEFT, fixed),
        (ReminderKind.LOG_AT_END, END + GRACE),
    ]
    assert [m.subject for m in mail.outbox] == [
        "Log your CHEM 110 session",
        "24 hours left to log your CHEM 110 session",
        "4 hours left to log your CHEM 110 session",
    ]
