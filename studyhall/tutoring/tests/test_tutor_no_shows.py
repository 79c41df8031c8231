"""Online tutor no-shows with a frozen clock and recorded classroom presence: the sweep marks a
session Missed ("tutor no-show") at exactly the organization's wait after the start when an
accepted student waited and the tutor never joined; never a second earlier, never when the
tutor came late, never when no student came, never a canceled session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studyhall.accounts.models import User
from studyhall.calls.models import CallEvent, EventKind
from studyhall.core.errors import Conflict
from studyhall.core.models import AuditEntry
from studyhall.notifications.models import Kind, Notification
from studyhall.notifications.services import set_email_preferences
from studyhall.testing import factories as f
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.models import BookingSuspension, Mode, Session, Status
from studyhall.tutoring.services import missed
from studyhall.tutoring.services.completion import complete_session

if TYPE_CHECKING:
    from conftest import Cast

NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
START = NOW + timedelta(hours=1)
WAIT = timedelta(minutes=15)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def online(cast: Cast, *students: User, status: str | None = None) -> Session:
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=list(students or (cast.student,)),
        start=START,
        mode=Mode.ONLINE,
        status=status,
    )


def joined(session: Session, user: User, at: datetime, peer: str = "") -> None:
    CallEvent.objects.create(
        session=session,
        user=user,
        peer_id=peer or f"peer-{session.pk}-{user.pk}-{at.timestamp()}",
        kind=EventKind.JOINED,
        at=at,
    )


def left(session: Session, user: User, at: datetime, peer: str) -> None:
    CallEvent.objects.create(session=session, user=user, peer_id=peer, kind=EventKind.LEFT, at=at)


def state_of(session: Session) -> tuple[str, str]:
    session.refresh_from_db()
    return session.status, session.missed_reason


def test_missed_at_exactly_the_wait_and_not_a_second_before(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = online(cast)
    joined(session, cast.student, START + timedelta(minutes=2))

    frozen.move_to(START + WAIT - timedelta(seconds=1))
    assert missed.sweep().tutor_no_shows == []
    assert state_of(session) == (Status.SCHEDULED, "")

    frozen.move_to(START + WAIT)
    assert missed.sweep().tutor_no_shows == [session.pk]
    assert state_of(session) == (Status.MISSED, "tutor_no_show")
    session.refresh_from_db()
    assert session.ended_at == START + WAIT
    entries = AuditEntry.objects.filter(session=session).order_by("pk")
    assert [(e.action, e.actor_id) for e in entries] == [
        ("session.tutor_no_show", None),
        ("session.missed", None),
    ]
    assert entries[0].data == {"waited_minutes": 15, "waiting_student_ids": [cast.student.pk]}
    assert entries[1].data == {"reason": "tutor_no_show"}


def test_a_second_run_marks_nothing_more(cast: Cast, frozen: time_machine.Traveller) -> None:
    session = online(cast)
    joined(session, cast.student, START)
    frozen.move_to(START + WAIT + timedelta(minutes=1))

    first, second = missed.sweep(), missed.sweep()

    assert (first.tutor_no_shows, second.tutor_no_shows) == ([session.pk], [])
    assert AuditEntry.objects.filter(session=session, action="session.missed").count() == 1


def test_the_wait_is_the_organizations_policy(cast: Cast, frozen: time_machine.Traveller) -> None:
    cast.org.tutor_no_show_minutes = 5
    cast.org.save(update_fields=["tutor_no_show_minutes"])
    session = online(cast)
    joined(session, cast.student, START - timedelta(minutes=3))  # early, and waited

    frozen.move_to(START + timedelta(minutes=5) - timedelta(seconds=1))
    assert missed.sweep().tutor_no_shows == []
    frozen.move_to(START + timedelta(minutes=5))
    assert missed.sweep().tutor_no_shows == [session.pk]


def test_a_tutor_who_joined_late_but_before_the_wait_is_not_a_no_show(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = online(cast)
    joined(session, cast.student, START)
    joined(session, cast.tutor, START + WAIT - timedelta(seconds=1))

    frozen.move_to(START + WAIT + timedelta(minutes=30))
    assert missed.sweep().tutor_no_shows == []
    assert state_of(session) == (Status.SCHEDULED, "")


def test_a_tutor_who_came_and_left_before_the_student_is_not_a_no_show(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = online(cast)
    joined(session, cast.tutor, START - timedelta(minutes=5), peer="t")
    left(session, cast.tutor, START - timedelta(minutes=4), peer="t")
    joined(session, cast.student, START + timedelta(minutes=1))

    frozen.move_to(START + WAIT)
    assert missed.sweep().tutor_no_shows == []


def test_no_student_came_so_no_tutor_no_show(cast: Cast, frozen: time_machine.Traveller) -> None:
    session = online(cast)

    frozen.move_to(START + WAIT + timedelta(minutes=10))
    assert missed.sweep().tutor_no_shows == []
    assert state_of(session) == (Status.SCHEDULED, "")


def test_a_student_who_came_only_after_the_wait_does_not_make_it_one(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = online(cast)
    joined(session, cast.student, START + WAIT + timedelta(seconds=1))

    frozen.move_to(START + WAIT + timedelta(minutes=5))
    assert missed.sweep().tutor_no_shows == []


def test_a_student_who_declined_does_not_count_as_waiting(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=START,
        mode=Mode.ONLINE,
        states=["declined"],
        status=Status.SCHEDULED,
    )
    joined(session, cast.student, START)

    frozen.move_to(START + WAIT)
    assert missed.sweep().tutor_no_shows == []


def test_a_canceled_session_never_counts(cast: Cast, frozen: time_machine.Traveller) -> None:
    session = online(cast, status=Status.CANCELED)
    joined(session, cast.student, START)

    frozen.move_to(START + WAIT)
    assert missed.sweep().tutor_no_shows == []
    assert state_of(session) == (Status.CANCELED, "")


def test_in_person_sessions_are_left_to_the_students_report(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)
    joined(session, cast.student, START)  # cannot happen, but even so

    frozen.move_to(START + WAIT)
    assert missed.sweep().tutor_no_shows == []


def test_the_sweep_reads_what_is_due_in_a_fixed_number_of_queries(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    sessions = [online(cast) for _ in range(3)]
    for s in sessions:
        joined(s, cast.student, START)
    # Long past, far ahead, and a finished call: outside what the sweep reads.
    f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=START - timedelta(days=3),
        mode=Mode.ONLINE,
    )
    frozen.move_to(START + timedelta(minutes=10))  # not due yet: three reads, no locks

    with CaptureQueriesContext(connection) as queries:
        due = missed.tutor_no_show_candidates(now=START + timedelta(minutes=10))
    assert due == []
    assert len(queries) == 1  # the window itself: nobody has waited long enough

    with CaptureQueriesContext(connection) as queries:
        due = missed.tutor_no_show_candidates(now=START + WAIT)
    assert due == [s.pk for s in sessions]
    assert len(queries) == 3  # the window, the accepted students, who joined


def test_the_students_are_told_and_offered_to_book_again(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = online(cast, cast.student, cast.student2)
    joined(session, cast.student, START)
    set_email_preferences(actor=cast.student2, by_email={Kind.NO_SHOW: False})
    frozen.move_to(START + WAIT)
    missed.sweep()
    mail.outbox.clear()

    run_queued_tasks()

    rows = {
        n.user_id: (n.kind, n.event, n.title, n.link)
        for n in Notification.objects.filter(session=session)
    }
    rebook = f"/sessions/book/?course={cast.course.pk}"
    assert rows[cast.student.pk] == (
        "no_show",
        "tutor_no_show",
        "Tess Tutor did not come to your CHEM 110 session on Mon, Mar 10 at 4:00 PM UTC, so "
        "it was marked missed. Book CHEM 110 again when it suits you.",
        rebook,
    )
    assert rows[cast.student2.pk][3] == rebook
    assert rows[cast.tutor.pk][1:] == (
        "tutor_no_show",
        "The CHEM 110 session on Mon, Mar 10 at 4:00 PM UTC was marked missed as a tutor "
        "no-show: a student waited 15 minutes in the classroom without you.",
        f"/sessions/{session.pk}/",
    )
    assert sorted(m.to[0] for m in mail.outbox) == ["maya@example.test", "tutor@example.test"]
    student_mail = next(m for m in mail.outbox if m.to[0] == "maya@example.test")
    assert student_mail.subject == "Your tutor did not come: book CHEM 110 again"
    assert f"http://testserver{rebook}" in student_mail.body or rebook in student_mail.body

    run_queued_tasks(again=True)
    assert Notification.objects.filter(session=session).count() == 3


def test_a_tutor_no_show_cannot_be_logged_and_says_why(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = online(cast)
    joined(session, cast.student, START)
    frozen.move_to(START + WAIT)
    missed.sweep()

    with pytest.raises(Conflict) as raised:
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP)

    assert raised.value.code == "session_not_completable"
    assert raised.value.message == (
        "This session was missed (the tutor did not come), so it cannot be logged."
    )


def test_three_tutor_no_shows_in_a_term_warn_then_suspend(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    cast.org.terms.create(name="Spring 2025", start=date(2025, 1, 6), end=date(2025, 5, 9))
    sessions = []
    for day in range(3):
        s = f.make_session(
            org=cast.org,
            tutor=cast.tutor,
            students=[cast.student],
            start=START + timedelta(days=day),
            mode=Mode.ONLINE,
        )
        joined(s, cast.student, s.scheduled_start)
        sessions.append(s)

    outcomes = []
    for s in sessions:
        frozen.move_to(s.scheduled_start + WAIT)
        missed.sweep()
        outcomes.append(
            [e.action for e in AuditEntry.objects.filter(action__startswith="no_show.")]
        )

    assert outcomes == [[], ["no_show.warned"], ["no_show.warned", "no_show.suspended"]]
    suspension = BookingSuspension.objects.get()
    assert (suspension.user_id, suspension.role, suspension.no_shows, suspension.period_name) == (
        cast.tutor.pk,
        "tutor",
        3,
        "Spring 2025",
    )


def test_sessions_missed_before_the_reason_was_kept_take_it_from_their_audit(
    cast: Cast,
) -> None:
    from importlib import import_module

    from django.apps import apps

    backfill = import_module("studyhall.tutoring.migrations.0012_missed_reason_from_audit")
    old = online(cast, status=Status.MISSED)
    unknown = online(cast, status=Status.MISSED)
    AuditEntry.objects.create(action="session.missed", session=old, data={"reason": "nobody_came"})
    AuditEntry.objects.create(action="session.missed", session=unknown, data={"reason": "?"})

    backfill.backfill(apps, None)

    assert (state_of(old), state_of(unknown)) == (
        (Status.MISSED, "nobody_came"),
        (Status.MISSED, ""),
    )
