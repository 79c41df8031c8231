"""The booking limits at each boundary: session length, one session per tutor and student a
day, 3 hours per student per course per week, 15 hours per tutor per week — on the
organization's calendar, across week boundaries and daylight-saving changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import Role
from studyhall.testing import factories as f
from studyhall.tutoring.limit_rules import (
    LimitExceeded,
    local_day,
    local_week,
    spoken_minutes,
    week_phrase,
)
from studyhall.tutoring.models import Mode, ParticipantState, Session, Status
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.limits import allowance
from studyhall.tutoring.services.rescheduling import propose_time
from studyhall.tutoring.services.scheduling import accept_session, create_session

if TYPE_CHECKING:
    from conftest import Cast

NY = ZoneInfo("America/New_York")
PS = ParticipantState
# Monday, March 3, 2025, 8:00 AM in New York: the week of Mar 3–9, which ends on the Sunday
# the clocks spring forward (Mar 9, a 23-hour day).
NOW = datetime(2025, 3, 3, 13, 0, tzinfo=UTC)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def booked(
    cast: Cast,
    start: datetime,
    minutes: int,
    *,
    student: User | None = None,
    tutor: User | None = None,
    status: str | None = None,
    state: str = PS.ACCEPTED,
    **extra: Any,
) -> Session:
    """A session already on the calendar (written directly), by default with the other tutor
    so that it uses the student's course time without touching the tutor's day or week."""
    return f.make_session(
        org=cast.org,
        tutor=tutor or cast.other_tutor,
        students=[student or cast.student],
        course=extra.pop("course", cast.course),
        start=start,
        minutes=minutes,
        states=[state],
        status=status,
        **extra,
    )


def request(cast: Cast, start: datetime, minutes: int, **overrides: Any) -> Session:
    kwargs: dict[str, Any] = {
        "actor": cast.student,
        "organization_id": cast.org.pk,
        "course_id": cast.course.pk,
        "mode": Mode.ONLINE,
        "scheduled_start": start,
        "planned_minutes": minutes,
        "tutor_id": cast.tutor.pk,
    }
    kwargs.update(overrides)
    return create_session(**kwargs)


def invite(cast: Cast, start: datetime, minutes: int, *students: User) -> Session:
    return create_session(
        actor=cast.tutor,
        organization_id=cast.org.pk,
        course_id=cast.course.pk,
        mode=Mode.ONLINE,
        scheduled_start=start,
        planned_minutes=minutes,
        student_ids=[s.pk for s in students or (cast.student,)],
    )


def refused(call: Any, *args: Any, **kwargs: Any) -> LimitExceeded:
    """The call is refused with limit_exceeded and writes nothing."""
    sessions, audits = Session.objects.count(), AuditEntry.objects.count()
    with pytest.raises(LimitExceeded) as raised:
        call(*args, **kwargs)
    assert raised.value.code == "limit_exceeded"
    assert raised.value.http_status == 422
    assert Session.objects.count() == sessions
    assert AuditEntry.objects.count() == audits
    return raised.value


# -- the calendar ----------------------------------------------------------------------------


def test_a_week_is_monday_to_sunday_on_the_orgs_clock_even_across_spring_forward() -> None:
    week = local_week(ny(2025, 3, 9, 23, 30), NY)
    assert week.start == datetime(2025, 3, 3, 5, 0, tzinfo=UTC)  # Mon 00:00 EST
    assert week.end == datetime(2025, 3, 10, 4, 0, tzinfo=UTC)  # Mon 00:00 EDT
    assert week.end - week.start == timedelta(hours=167)
    assert week.first_day.isoformat() == "2025-03-03"


def test_a_week_across_fall_back_is_169_hours() -> None:
    week = local_week(ny(2025, 11, 2, 12, 0), NY)
    assert week.start == datetime(2025, 10, 27, 4, 0, tzinfo=UTC)
    assert week.end == datetime(2025, 11, 3, 5, 0, tzinfo=UTC)
    assert week.end - week.start == timedelta(hours=169)


def test_a_day_is_the_orgs_calendar_day() -> None:
    spring = local_day(ny(2025, 3, 9, 12, 0), NY)
    assert spring.end - spring.start == timedelta(hours=23)
    fall = local_day(ny(2025, 11, 2, 12, 0), NY)
    assert fall.end - fall.start == timedelta(hours=25)
    # 03:30 UTC on Monday is still Sunday evening in New York.
    assert local_day(datetime(2025, 3, 10, 3, 30, tzinfo=UTC), NY).first_day.isoformat() == (
        "2025-03-09"
    )


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (0, "no time"),
        (5, "5 minutes"),
        (45, "45 minutes"),
        (60, "1 hour"),
        (90, "1 hour 30 minutes"),
        (135, "2 hours 15 minutes"),
        (180, "3 hours"),
        (900, "15 hours"),
    ],
)
def test_spoken_minutes(minutes: int, words: str) -> None:
    assert spoken_minutes(minutes) == words


def test_week_phrase() -> None:
    assert week_phrase(local_week(ny(2025, 3, 9, 23, 0), NY), now=NOW, zone=NY) == "this week"
    assert week_phrase(local_week(ny(2025, 3, 10, 0, 0), NY), now=NOW, zone=NY) == "next week"
    assert week_phrase(local_week(ny(2025, 3, 20, 9, 0), NY), now=NOW, zone=NY) == (
        "in the week of Mon, Mar 17"
    )


# -- 3 hours per student per course per week ---------------------------------------------------


def test_175_minutes_used_leaves_5(cast: Cast) -> None:
    booked(cast, ny(2025, 3, 3, 10, 0), 90)
    booked(cast, ny(2025, 3, 4, 10, 0), 85)

    error = refused(request, cast, ny(2025, 3, 5, 10, 0), 10)

    assert error.message == (
        "You have 5 minutes left for CHEM 110 this week (3 hours a week per course); "
        "this session needs 10 minutes."
    )
    assert error.extra == {
        "limit": "student_course_weekly",
        "remaining_minutes": 5,
        "limit_minutes": 180,
        "user_id": cast.student.pk,
        "week_start": "2025-03-03",
    }
    session = request(cast, ny(2025, 3, 5, 10, 0), 5)
    assert session.status == Status.REQUESTED


def test_180_minutes_used_leaves_nothing(cast: Cast) -> None:
    booked(cast, ny(2025, 3, 3, 10, 0), 90)
    booked(cast, ny(2025, 3, 4, 10, 0), 90)

    error = refused(invite, cast, ny(2025, 3, 5, 10, 0), 5)

    # The tutor invites, so the message names the student.
    assert error.message == (
        "Maya Chen has no time left for CHEM 110 this week (3 hours a week per course); "
        "this session needs 5 minutes."
    )
    assert error.extra["remaining_minutes"] == 0


@pytest.mark.parametrize(
    ("status", "counts"),
    [
        (Status.REQUESTED, True),
        (Status.INVITED, True),
        (Status.SCHEDULED, True),
        (Status.STARTING, True),
        (Status.IN_PROGRESS, True),
        (Status.COMPLETED, True),
        (Status.CANCELED, False),
        (Status.DECLINED, False),
        (Status.MISSED, False),
    ],
)
def test_which_sessions_count(cast: Cast, status: Status, counts: bool) -> None:
    booked(cast, ny(2025, 3, 3, 10, 0), 90)
    booked(cast, ny(2025, 3, 4, 10, 0), 90, status=status)

    if counts:
        refused(request, cast, ny(2025, 3, 5, 10, 0), 5)
    else:
        assert request(cast, ny(2025, 3, 5, 10, 0), 90).status == Status.REQUESTED


@pytest.mark.parametrize(
    ("state", "counts"),
    [(PS.INVITED, True), (PS.ACCEPTED, True), (PS.DECLINED, False), (PS.REMOVED, False)],
)
def test_a_session_counts_while_the_student_is_on_it(cast: Cast, state: str, counts: bool) -> None:
    booked(cast, ny(2025, 3, 3, 10, 0), 90)
    booked(cast, ny(2025, 3, 4, 10, 0), 90, state=state, status=Status.SCHEDULED)

    if counts:
        refused(request, cast, ny(2025, 3, 5, 10, 0), 5)
    else:
        request(cast, ny(2025, 3, 5, 10, 0), 90)


def test_a_completed_session_counts_its_logged_minutes(cast: Cast) -> None:
    done = booked(cast, ny(2025, 3, 3, 6, 0), 90)  # began two hours ago
    complete_session(session_id=done.pk, actor=cast.other_tutor, minutes=30, recap=f.GOOD_RECAP)
    booked(cast, ny(2025, 3, 4, 10, 0), 90)

    left = allowance(
        organization=cast.org,
        course=cast.course,
        tutor=cast.tutor,
        students=[cast.student],
        start=ny(2025, 3, 5, 10, 0),
    )

    assert left.students[0].course_minutes_left == 60
    request(cast, ny(2025, 3, 5, 10, 0), 60)


def test_other_courses_and_other_students_do_not_count(cast: Cast) -> None:
    calc = f.make_course(cast.org, code="MATH 151")
    booked(cast, ny(2025, 3, 3, 10, 0), 90, course=calc)
    booked(cast, ny(2025, 3, 4, 10, 0), 90, course=calc)
    booked(cast, ny(2025, 3, 4, 12, 0), 90, student=cast.student2)
    booked(cast, ny(2025, 3, 4, 14, 0), 90, student=cast.student2)

    request(cast, ny(2025, 3, 5, 10, 0), 90)
    request(cast, ny(2025, 3, 6, 10, 0), 90)
    refused(request, cast, ny(2025, 3, 7, 10, 0), 5)


def test_the_week_ends_at_midnight_sunday_in_the_orgs_zone_when_clocks_spring_forward(
    cast: Cast,
) -> None:
    booked(cast, ny(2025, 3, 3, 10, 0), 90)
    booked(cast, ny(2025, 3, 4, 10, 0), 90)

    # Sunday 11:00 PM in New York is already Monday in UTC: still this week, so refused.
    late_sunday = ny(2025, 3, 9, 23, 0)
    assert late_sunday.astimezone(UTC).weekday() == 0
    error = refused(request, cast, late_sunday, 30)
    assert error.extra["week_start"] == "2025-03-03"

    # Monday 12:30 AM EDT is 04:30 UTC — before 05:00 UTC, where a fixed EST offset would put
    # the boundary — and it is next week: allowed.
    early_monday = ny(2025, 3, 10, 0, 30)
    assert early_monday.astimezone(UTC) == datetime(2025, 3, 10, 4, 30, tzinfo=UTC)
    session = request(cast, early_monday, 90)
    assert session.status == Status.REQUESTED
    # And that week has its own three hours.
    request(cast, ny(2025, 3, 11, 10, 0), 90)
    refused(request, cast, ny(2025, 3, 12, 10, 0), 5)


def test_the_week_boundary_when_clocks_fall_back(cast: Cast) -> None:
    with time_machine.travel(datetime(2025, 10, 27, 12, 0, tzinfo=UTC), tick=False):
        booked(cast, ny(2025, 10, 28, 10, 0), 90)
        booked(cast, ny(2025, 10, 29, 10, 0), 90)

        # 11:30 PM EST on Sunday Nov 2 is 04:30 UTC Monday; a fixed EDT offset would call it
        # Monday 00:30 and let it through. It is Sunday in New York: refused.
        error = refused(request, cast, ny(2025, 11, 2, 23, 30), 30)
        assert error.message.startswith("You have no time left for CHEM 110 this week")
        request(cast, ny(2025, 11, 3, 0, 15), 30)


# -- one session per tutor and student a day ---------------------------------------------------


def test_one_session_per_tutor_and_student_a_day(cast: Cast) -> None:
    booked(cast, ny(2025, 3, 5, 10, 0), 30, tutor=cast.tutor)

    error = refused(request, cast, ny(2025, 3, 5, 18, 0), 30)

    assert error.message == (
        "You already have a session with Tess Tutor on Wed, Mar 5; a tutor and a student meet "
        "at most once a day."
    )
    assert error.extra == {
        "limit": "pair_daily",
        "remaining_minutes": 0,
        "user_id": cast.student.pk,
        "day": "2025-03-05",
        "limit_sessions": 1,
    }
    # Another day, or another tutor the same day, is fine.
    request(cast, ny(2025, 3, 6, 10, 0), 30)
    request(cast, ny(2025, 3, 5, 18, 0), 30, tutor_id=cast.other_tutor.pk)


def test_a_canceled_session_frees_the_day(cast: Cast) -> None:
    booked(cast, ny(2025, 3, 5, 10, 0), 30, tutor=cast.tutor, status=Status.CANCELED)
    request(cast, ny(2025, 3, 5, 18, 0), 30)


def test_the_day_is_the_orgs_day_when_clocks_spring_forward(cast: Cast) -> None:
    # 12:30 AM EST and 11:30 PM EDT on Sunday Mar 9 (05:30 and 03:30 UTC next day).
    booked(cast, ny(2025, 3, 9, 0, 30), 30, tutor=cast.tutor)
    refused(request, cast, ny(2025, 3, 9, 23, 30), 30)
    request(cast, ny(2025, 3, 10, 0, 0), 30)


def test_the_day_is_the_orgs_day_when_clocks_fall_back(cast: Cast) -> None:
    with time_machine.travel(datetime(2025, 10, 27, 12, 0, tzinfo=UTC), tick=False):
        booked(cast, ny(2025, 11, 2, 0, 30), 30, tutor=cast.tutor)
        # Nov 2 has 25 hours: 11:30 PM EST is 24 hours after 12:30 AM EDT, the same day.
        refused(request, cast, ny(2025, 11, 2, 23, 30), 30)
        request(cast, ny(2025, 11, 3, 0, 15), 30)


def test_the_org_may_allow_more_sessions_a_day(cast: Cast) -> None:
    cast.org.pair_sessions_per_day = 2
    cast.org.save()
    booked(cast, ny(2025, 3, 5, 9, 0), 30, tutor=cast.tutor)
    request(cast, ny(2025, 3, 5, 12, 0), 30)

    error = refused(request, cast, ny(2025, 3, 5, 18, 0), 30)

    assert error.message == (
        "You already have 2 sessions with Tess Tutor on Wed, Mar 5; a tutor and a student meet "
        "at most 2 times a day."
    )


def test_an_invitation_names_the_student_over_a_limit(cast: Cast) -> None:
    booked(cast, ny(2025, 3, 5, 9, 0), 30, tutor=cast.tutor, student=cast.student2)

    error = refused(invite, cast, ny(2025, 3, 5, 15, 0), 60, cast.student, cast.student2)

    assert error.message == (
        "Sam Lee already has a session with you on Wed, Mar 5; a tutor and a student meet at "
        "most once a day."
    )
    assert error.extra["user_id"] == cast.student2.pk


# -- 15 hours per tutor per week ---------------------------------------------------------------


def tutor_busy_for(cast: Cast, minutes: int) -> None:
    """Book the tutor for `minutes` this week with a third student."""
    someone = f.add_member(cast.org, f.make_user(name="Busy Student"), Role.STUDENT)
    start = ny(2025, 3, 3, 9, 0)
    while minutes > 0:
        chunk = min(minutes, 90)
        booked(cast, start, chunk, tutor=cast.tutor, student=someone)
        start += timedelta(hours=2)
        minutes -= chunk


def test_the_tutor_has_15_hours_a_week(cast: Cast) -> None:
    tutor_busy_for(cast, 840)

    request(cast, ny(2025, 3, 5, 10, 0), 60)  # 900: exactly the limit
    error = refused(request, cast, ny(2025, 3, 6, 10, 0), 5, actor=cast.student2)

    assert error.message == (
        "Tess Tutor has no tutoring time left this week (15 hours a week); "
        "this session needs 5 minutes."
    )
    assert error.extra == {
        "limit": "tutor_weekly",
        "remaining_minutes": 0,
        "limit_minutes": 900,
        "user_id": cast.tutor.pk,
        "week_start": "2025-03-03",
    }


def test_the_tutor_is_told_what_they_have_left(cast: Cast) -> None:
    tutor_busy_for(cast, 855)

    error = refused(invite, cast, ny(2025, 3, 5, 10, 0), 60)

    assert error.message == (
        "You have 45 minutes of tutoring left this week (15 hours a week); "
        "this session needs 1 hour."
    )
    invite(cast, ny(2025, 3, 5, 10, 0), 45)


# -- session length ----------------------------------------------------------------------------


def test_the_org_may_shorten_sessions(cast: Cast) -> None:
    cast.org.max_session_minutes = 60
    cast.org.save()

    error = refused(request, cast, ny(2025, 3, 5, 10, 0), 65)

    assert (
        error.message
        == "Sessions at Test College last at most 1 hour; 1 hour 5 minutes is too long."
    )
    assert error.extra == {"limit": "session_length", "remaining_minutes": 60, "limit_minutes": 60}
    request(cast, ny(2025, 3, 5, 10, 0), 60)


def test_more_than_90_minutes_is_never_a_session(cast: Cast) -> None:
    with pytest.raises(DomainError) as raised:
        request(cast, ny(2025, 3, 5, 10, 0), 95)
    assert raised.value.code == "invalid_duration"


# -- checked again at acceptance and at a new time ------------------------------------------


def test_a_student_accepting_is_checked_again(cast: Cast) -> None:
    session = invite(cast, ny(2025, 3, 6, 10, 0), 60)
    cast.org.student_weekly_minutes_per_course = 30
    cast.org.save()

    error = refused(accept_session, session_id=session.pk, actor=cast.student)

    assert error.message == (
        "You have 30 minutes left for CHEM 110 this week (30 minutes a week per course); "
        "this session needs 1 hour."
    )
    assert session.participants.get().state == PS.INVITED
    session.refresh_from_db()
    assert session.status == Status.INVITED


def test_the_tutor_accepting_is_checked_again(cast: Cast) -> None:
    session = request(cast, ny(2025, 3, 6, 10, 0), 60)
    tutor_busy_for(cast, 870)  # written directly, as if booked while the request waited

    error = refused(accept_session, session_id=session.pk, actor=cast.tutor)

    assert error.extra["limit"] == "tutor_weekly"
    assert error.message.startswith("You have 30 minutes of tutoring left this week")
    session.refresh_from_db()
    assert session.status == Status.REQUESTED


def test_a_session_does_not_count_against_itself_when_accepted(cast: Cast) -> None:
    booked(cast, ny(2025, 3, 3, 10, 0), 90)
    session = invite(cast, ny(2025, 3, 6, 10, 0), 90)  # 180: exactly the limit

    accept_session(session_id=session.pk, actor=cast.student)

    session.refresh_from_db()
    assert session.status == Status.SCHEDULED


def test_a_new_time_is_checked(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=ny(2025, 3, 6, 10, 0)
    )
    booked(cast, ny(2025, 3, 7, 9, 0), 30, tutor=cast.tutor, student=cast.student)

    error = refused(
        propose_time, session_id=session.pk, actor=cast.tutor, scheduled_start=ny(2025, 3, 7, 15)
    )

    assert error.extra["limit"] == "pair_daily"
    # Moving within its own day (or week) does not count the session against itself.
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=ny(2025, 3, 6, 15))


# -- what is left, for the booking form --------------------------------------------------------


def test_allowance_says_what_is_left(cast: Cast) -> None:
    booked(cast, ny(2025, 3, 3, 10, 0), 45)
    booked(cast, ny(2025, 3, 4, 10, 0), 30, tutor=cast.tutor, student=cast.student2)
    booked(cast, ny(2025, 3, 5, 10, 0), 60, tutor=cast.tutor, student=cast.student2)

    left = allowance(
        organization=cast.org,
        course=cast.course,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        start=ny(2025, 3, 5, 16, 0),
    )

    assert left.tutor_minutes_left == 900 - 90
    assert [
        (s.student, s.course_minutes_left, s.sessions_with_tutor_that_day) for s in left.students
    ] == [
        (cast.student, 135, 0),
        (cast.student2, 90, 1),
    ]
    assert left.week.first_day.isoformat() == "2025-03-03"
    assert left.max_session_minutes == 90


# -- two bookings at once ----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL")
def test_two_requests_at_once_cannot_both_take_the_last_hour(cast: Cast) -> None:
    booked(cast, ny(2025, 3, 3, 10, 0), 90)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(day: int) -> None:
        try:
            barrier.wait(timeout=10)
            request(cast, ny(2025, 3, day, 10, 0), 90)
            result = "booked"
        except LimitExceeded:
            result = "refused"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(day,)) for day in (5, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["booked", "refused"]
    assert Session.objects.filter(status=Status.REQUESTED).count() == 1
