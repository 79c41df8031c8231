"""Reminders on a frozen clock: each is sent in its window, once, to the right people."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from studyhall.notifications.models import (
    EmailPreference,
    Kind,
    Notification,
    ReminderKind,
    SentReminder,
)
from studyhall.testing import factories as f
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.models import Mode, ParticipantState, Session, Status
from studyhall.tutoring.reminders import _open_for_logging, send_due_reminders
from studyhall.tutoring.services.completion import complete_session

if TYPE_CHECKING:
    from conftest import Cast

# A Tuesday in November: New York is on EST (UTC−5).
START = datetime(2026, 11, 17, 20, 0, tzinfo=UTC)
H = timedelta(hours=1)
ACC, INV = ParticipantState.ACCEPTED, ParticipantState.INVITED
R = ReminderKind


@pytest.fixture(autouse=True)
def _only_the_reminder_job(settings: Any) -> None:
    settings.STUDYHALL_PERIODIC_TASKS = {
        "notifications.reminders": {
            "task": "studyhall.tutoring.tasks.send_due_reminders",
            "every_seconds": 120,
        }
    }


def booked(cast: Cast, *, start: datetime = START, **kwargs: object) -> Session:
    """A session booked a week before it starts."""
    with time_machine.travel(start - timedelta(days=7), tick=False):
        return f.make_session(
            org=cast.org,
            tutor=cast.tutor,
            students=kwargs.pop("students", [cast.student]),  # type: ignore[arg-type]
            start=start,
            **kwargs,  # type: ignore[arg-type]
        )


def run_at(moment: datetime) -> int:
    """One tick of the reminder job at `moment`, and the worker running what it enqueued."""
    with time_machine.travel(moment, tick=False):
        claimed = send_due_reminders()
        run_queued_tasks()
        return claimed


def sent() -> list[tuple[str, str]]:
    return sorted((r.kind, r.user.email) for r in SentReminder.objects.select_related("user"))


@pytest.fixture
def outbox() -> Iterator[list[mail.EmailMessage]]:
    mail.outbox.clear()
    yield mail.outbox


# -- before the session ---------------------------------------------------------------------


def test_nothing_is_due_more_than_24_hours_ahead(cast: Cast, outbox: list) -> None:
    booked(cast)
    assert run_at(START - 24 * H - timedelta(seconds=1)) == 0
    assert outbox == [] and Notification.objects.count() == 0


def test_the_24_hour_reminder_goes_to_the_tutor_and_the_students(cast: Cast, outbox: list) -> None:
    session = booked(cast, students=[cast.student, cast.student2], states=[ACC, INV])
    assert run_at(START - 24 * H) == 3
    assert sent() == [
        (R.BEFORE_24H, "maya@example.test"),
        (R.BEFORE_24H, "sam@example.test"),
        (R.BEFORE_24H, "tutor@example.test"),
    ]
    by_to = {m.to[0]: m for m in outbox}
    assert sorted(by_to) == ["maya@example.test", "sam@example.test", "tutor@example.test"]
    assert by_to["maya@example.test"].subject == "Reminder: CHEM 110 session in 24 hours"
    # Each person reads the start in their own zone (these personas are on UTC).
    assert (
        "Reminder: your CHEM 110 session with Tess Tutor starts in 24 hours, on Tue, Nov 17 "
        "at 8:00 PM UTC." in by_to["maya@example.test"].body
    )
    assert "You have not answered the invitation yet." in by_to["sam@example.test"].body
    assert "with Maya Chen and Sam Lee starts in 24 hours" in by_to["tutor@example.test"].body
    assert f"http://localhost:8000/sessions/{session.pk}/" in by_to["maya@example.test"].body
    maya = by_to["maya@example.test"]
    assert isinstance(maya, EmailMultiAlternatives)
    html = str(maya.alternatives[0][0])
    assert 'name="viewport"' in html and f"/sessions/{session.pk}/" in html
    notice = Notification.objects.get(user=cast.student)
    assert (notice.kind, notice.event, notice.session_id) == (
        Kind.REMINDER,
        R.BEFORE_24H,
        session.pk,
    )
    assert notice.link == f"/sessions/{session.pk}/"


def test_times_are_in_each_recipients_zone(cast: Cast, outbox: list) -> None:
    cast.student.time_zone = "America/New_York"
    cast.student.save()
    cast.tutor.time_zone = "Europe/Berlin"
    cast.tutor.save()
    booked(cast)
    run_at(START - 24 * H)
    by_to = {m.to[0]: m.body for m in outbox}
    assert "on Tue, Nov 17 at 3:00 PM EST." in by_to["maya@example.test"]
    assert "When: Tue, Nov 17, 3:00 PM EST (1 h)" in by_to["maya@example.test"]
    assert "on Tue, Nov 17 at 9:00 PM CET." in by_to["tutor@example.test"]


def test_each_reminder_is_sent_once_however_often_the_job_runs(cast: Cast, outbox: list) -> None:
    booked(cast)
    assert run_at(START - 24 * H) == 2
    assert run_at(START - 24 * H + timedelta(minutes=2)) == 0
    assert run_at(START - 2 * H) == 0
    assert run_at(START - H) == 2
    assert run_at(START - timedelta(minutes=30)) == 0
    assert run_at(START) == 0  # it has started: no "before" reminder any more
    assert [m.subject for m in outbox if m.to == ["maya@example.test"]] == [
        "Reminder: CHEM 110 session in 24 hours",
        "Reminder: CHEM 110 session in 1 hour",
    ]
    assert Notification.objects.filter(user=cast.student).count() == 2


def test_a_late_run_sends_only_the_current_reminder(cast: Cast, outbox: list) -> None:
    booked(cast)
    # The worker was down all day; 40 minutes before the start only "1 hour" makes sense.
    assert run_at(START - timedelta(minutes=40)) == 2
    assert sent() == [(R.BEFORE_1H, "maya@example.test"), (R.BEFORE_1H, "tutor@example.test")]
    assert "starts in 40 minutes" in outbox[0].body


def test_a_session_booked_inside_the_window_skips_that_reminder(cast: Cast) -> None:
    with time_machine.travel(START - 5 * H, tick=False):
        f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)
    assert run_at(START - 4 * H) == 0
    assert run_at(START - H) == 2


def test_declined_removed_and_ended_sessions_get_no_reminder(cast: Cast) -> None:
    booked(cast, students=[cast.student, cast.student2], states=[ACC, ParticipantState.DECLINED])
    booked(cast, start=START + 5 * H, status=Status.CANCELED)
    run_at(START - 24 * H)
    assert sent() == [(R.BEFORE_24H, "maya@example.test"), (R.BEFORE_24H, "tutor@example.test")]


def test_a_new_time_gets_its_own_reminders(cast: Cast) -> None:
    session = booked(cast)
    run_at(START - H)
    later = START + timedelta(days=2)
    Session.objects.filter(pk=session.pk).update(scheduled_start=later)
    assert run_at(later - H) == 2
    assert SentReminder.objects.filter(kind=R.BEFORE_1H).count() == 4


def test_email_follows_the_persons_choice_but_the_app_always_tells(
    cast: Cast, outbox: list
) -> None:
    EmailPreference.objects.create(user=cast.student, kind=Kind.REMINDER, by_email=False)
    booked(cast)
    assert run_at(START - H) == 2
    assert [m.to for m in outbox] == [["tutor@example.test"]]
    assert Notification.objects.filter(user=cast.student, event=R.BEFORE_1H).count() == 1
    cast.student.refresh_from_db()
    assert cast.student.unread_notifications == 1


# -- "log your session" -----------------------------------------------------------------------

END = START + H  # a 60-minute session; the grace period (72 h) closes at END + 72 h
DEADLINE = END + 72 * H


def test_log_reminders_at_the_end_and_with_24_and_4_hours_left(cast: Cast, outbox: list) -> None:
    booked(cast)
    run_at(START - H)  # the "1 hour before" ones
    outbox.clear()
    assert run_at(END - timedelta(seconds=1)) == 0
    assert run_at(END) == 1
    assert run_at(END + 2 * H) == 0
    assert run_at(DEADLINE - 24 * H - timedelta(seconds=1)) == 0
    assert run_at(DEADLINE - 24 * H) == 1
    assert run_at(DEADLINE - 5 * H) == 0
    assert run_at(DEADLINE - 4 * H) == 1
    assert run_at(DEADLINE - timedelta(minutes=1)) == 0
    assert run_at(DEADLINE) == 0
    assert [(m.to[0], m.subject) for m in outbox] == [
        ("tutor@example.test", "Log your CHEM 110 session"),
        ("tutor@example.test", "24 hours left to log your CHEM 110 session"),
        ("tutor@example.test", "4 hours left to log your CHEM 110 session"),
    ]
    assert (
        "Your CHEM 110 session with Maya Chen has ended. Log your time and recap; logging "
        "closes in 72 hours, on Fri, Nov 20 at 9:00 PM UTC." in outbox[0].body
    )
    assert "Log it here: http://localhost:8000/sessions/" in outbox[0].body
    assert Notification.objects.filter(user=cast.tutor, kind=Kind.LOG_REMINDER).count() == 3


def test_a_late_run_skips_to_the_current_log_reminder(cast: Cast) -> None:
    booked(cast)
    assert run_at(DEADLINE - 10 * H) == 1
    assert sent() == [(R.LOG_24H_LEFT, "tutor@example.test")]


def test_a_completed_session_gets_no_log_reminder(cast: Cast) -> None:
    session = booked(cast)
    with time_machine.travel(END + H, tick=False):
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    assert run_at(DEADLINE - 24 * H) == 0


def test_a_missed_or_canceled_session_gets_no_log_reminder(cast: Cast) -> None:
    booked(cast, status=Status.MISSED)
    booked(cast, start=START + 2 * H, status=Status.CANCELED)
    assert run_at(END + 3 * H) == 0


def test_a_short_grace_period_skips_reminders_that_would_come_before_the_end(
    cast: Cast,
) -> None:
    cast.org.grace_hours = 12
    cast.org.save()
    booked(cast)
    assert run_at(END) == 1
    assert run_at(END + 8 * H) == 1
    assert sent() == [(R.LOG_4H_LEFT, "tutor@example.test"), (R.LOG_AT_END, "tutor@example.test")]


def test_a_call_that_ran_late_moves_the_log_reminders(cast: Cast) -> None:
    session = booked(cast, status=Status.SCHEDULED)
    late = END + timedelta(minutes=80)
    Session.objects.filter(pk=session.pk).update(call_ended_at=late)
    assert run_at(late - timedelta(seconds=1)) == 0
    assert run_at(late) == 1


def test_log_reminders_are_not_sent_again_after_each_call(cast: Cast, outbox: list) -> None:
    """The tutor comes back to the classroom after the end (alone, or with a student for a
    while): each log reminder still goes out once, and the classroom's closing bounds them."""
    session = booked(cast, mode=Mode.ONLINE, status=Status.SCHEDULED)
    assert run_at(END) == 1
    for minutes in (20, 50, 90):
        later = END + timedelta(minutes=minutes)
        Session.objects.filter(pk=session.pk).update(call_ended_at=later)
        assert run_at(later) == 0
        assert run_at(later + timedelta(minutes=5)) == 0
    # A call recorded past the classroom's closing does not move the deadline either.
    Session.objects.filter(pk=session.pk).update(call_ended_at=END + 30 * H)
    assert run_at(END + 30 * H) == 0
    assert sent() == [(R.LOG_AT_END, "tutor@example.test")]
    assert [m.to for m in outbox] == [["tutor@example.test"]]
    # The later reminders count down from the deadline fixed when the classroom closed.
    closes = END + 90 * timedelta(minutes=1) + 72 * H
    assert run_at(closes - 24 * H - timedelta(seconds=1)) == 0
    assert run_at(closes - 24 * H) == 1
    assert run_at(closes - 4 * H) == 1
    assert run_at(closes) == 0
    assert [k for k, _ in sent()] == [R.LOG_24H_LEFT, R.LOG_4H_LEFT, R.LOG_AT_END]


# -- through the scheduler and the worker -----------------------------------------------------


def test_running_the_scheduler_and_worker_twice_sends_each_email_once(
    cast: Cast, outbox: list
) -> None:
    booked(cast)
    for minutes in (0, 3):
        with time_machine.travel(START - H + timedelta(minutes=minutes), tick=False):
            call_command("run_scheduler", "--once")
            call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    ran = DBTaskResult.objects.filter(status="SUCCESSFUL")
    # The job twice; the first run claimed both reminders and enqueued the task telling them.
    assert ran.filter(task_path="studyhall.tutoring.tasks.send_due_reminders").count() == 2
    assert ran.filter(task_path="studyhall.tutoring.reminders.send_reminders").count() == 1
    assert sorted(m.to[0] for m in outbox) == ["maya@example.test", "tutor@example.test"]
    # The same job enqueued twice at once (two schedulers) still sends nothing more.
    with time_machine.travel(START - H + timedelta(minutes=10), tick=False):
        from studyhall.tutoring.tasks import send_due_reminders as job

        job.enqueue()
        job.enqueue()
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    assert len(outbox) == 2


# -- what a run costs ------------------------------------------------------------------------


def _history(cast: Cast, count: int) -> None:
    """`count` sessions in every window a reminder looks at, each already reminded."""
    for n in range(count):
        booked(cast, start=START + timedelta(minutes=n))  # due for the 24-hour reminder
        booked(cast, start=START - 23 * H + timedelta(minutes=n))  # started: to log
    run_at(START - 20 * H)


@pytest.mark.parametrize("count", [2, 20])
def test_a_run_with_nothing_due_costs_the_same_few_statements_however_many_sessions(
    cast: Cast, outbox: list, count: int, django_assert_max_num_queries: Any
) -> None:
    _history(cast, count)
    claimed = SentReminder.objects.count()
    assert claimed == 3 * count  # the tutor and the student before; the tutor to log
    with (
        time_machine.travel(START - 20 * H + 2 * timedelta(minutes=1), tick=False),
        django_assert_max_num_queries(6),
    ):
        assert send_due_reminders() == 0
    assert SentReminder.objects.count() == claimed


def test_due_reminders_are_claimed_in_one_statement(cast: Cast, outbox: list) -> None:
    for n in range(5):
        booked(cast, start=START + timedelta(minutes=n))
    with (
        time_machine.travel(START - 20 * H, tick=False),
        CaptureQueriesContext(connection) as ctx,
    ):
        assert send_due_reminders() == 10
    inserts = [q["sql"] for q in ctx.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == 2  # the claims, and the one task that tells everyone
    assert outbox == []
    run_queued_tasks()
    assert len(outbox) == 10


def test_a_run_with_many_sessions_to_log_and_none_due_reads_no_session(
    cast: Cast, outbox: list, django_assert_num_queries: Any
) -> None:
    """Sessions inside their logging window whose current reminder is already claimed are
    left out by the query itself: three reads (the two before-the-session windows and the
    logging one), none of them returning a row, so no participant or claim is read either."""
    for n in range(30):
        booked(cast, start=START - 23 * H + timedelta(minutes=n))
    assert run_at(START - 20 * H) == 30
    moment = START - 20 * H + 2 * timedelta(minutes=1)
    with time_machine.travel(moment, tick=False), django_assert_num_queries(3):
        assert send_due_reminders() == 0
    assert list(_open_for_logging(moment)) == []


LATE_CALL = END + timedelta(minutes=40)  # a call that ran 40 minutes past the end
CLOSES = END + timedelta(minutes=90)  # the classroom's closing (policy: 90 minutes)
US = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("call_ended", "ended"),
    [(None, END), (LATE_CALL, LATE_CALL), (END + 30 * H, CLOSES)],
    ids=["no call", "late call", "call past the closing"],
)
def test_the_query_finds_each_log_reminder_from_its_first_moment_to_its_last(
    cast: Cast, call_ended: datetime | None, ended: datetime
) -> None:
    session = booked(cast, mode=Mode.ONLINE, status=Status.SCHEDULED)
    Session.objects.filter(pk=session.pk).update(call_ended_at=call_ended)
    deadline = ended + 72 * H
    windows = [
        (ended, deadline - 24 * H, R.LOG_AT_END),
        (deadline - 24 * H, deadline - 4 * H, R.LOG_24H_LEFT),
        (deadline - 4 * H, deadline, R.LOG_4H_LEFT),
    ]

    def found(moment: datetime) -> list[int]:
        return [s.pk for s in _open_for_logging(moment)]

    assert found(ended - US) == []
    for opens, closes, kind in windows:
        assert found(opens) == [session.pk], kind
        assert found(closes - US) == [session.pk], kind
        with time_machine.travel(opens, tick=False):
            assert send_due_reminders() == 1
        assert SentReminder.objects.filter(session=session, kind=kind).count() == 1
        # Claimed: gone from the query until the next reminder's moment.
        assert found(opens) == []
        assert found(closes - US) == []
    assert found(deadline) == []


def test_the_query_leaves_out_sessions_in_a_call_completed_or_past_their_deadline(
    cast: Cast,
) -> None:
    in_call = booked(cast, status=Status.IN_PROGRESS)
    done = booked(cast, start=START + timedelta(minutes=5))
    with time_machine.travel(END + 2 * H, tick=False):
        complete_session(session_id=done.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    late = booked(cast, start=START - 80 * H)
    due = booked(cast, start=START + timedelta(minutes=10))
    found = {s.pk for s in _open_for_logging(END + 3 * H)}
    assert found == {due.pk}
    assert not {in_call.pk, done.pk, late.pk} & found
