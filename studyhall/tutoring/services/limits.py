"""The booking limits against the database: what each person has used, what is left, and the
check that the booking services run (inside their transaction) before they write.

Concurrent bookings for the same people are serialized by locking their membership rows in
the organization (in id order, after any session lock), so two requests cannot both take the
last free hour. On SQLite the write transaction itself already serializes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.errors import RuleViolation
from studyhall.orgs.models import Course, Membership, Organization
from studyhall.tutoring.limit_rules import (
    COUNTING_PARTICIPANT_STATES,
    COUNTING_STATUSES,
    Span,
    check_pair_daily,
    check_session_length,
    check_student_course_weekly,
    check_tutor_weekly,
    local_day,
    local_week,
)
from studyhall.tutoring.models import Session


def lock_people(organization: Organization, user_ids: Iterable[int]) -> None:
    """Hold the people's memberships until the transaction ends (a fixed order: by id)."""
    list(
        Membership.objects.select_for_update()
        .filter(organization=organization, user_id__in=set(user_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _counting(organization: Organization, span: Span, exclude_session_id: int | None) -> Q:
    q = Q(
        organization=organization,
        status__in=COUNTING_STATUSES,
        scheduled_start__gte=span.start,
        scheduled_start__lt=span.end,
    )
    if exclude_session_id is not None:
        q &= ~Q(pk=exclude_session_id)
    return q


def _minutes(q: Q) -> int:
    """Planned minutes, or the logged minutes once a session is completed."""
    total = Session.objects.filter(q).aggregate(
        total=Coalesce(Sum(Coalesce("completion__minutes", "planned_minutes")), 0)
    )["total"]
    return int(total)


def _on_session(student_id: int) -> Q:
    return Q(participants__user_id=student_id, participants__state__in=COUNTING_PARTICIPANT_STATES)


def student_course_minutes(
    *,
    organization: Organization,
    course: Course,
    student_id: int,
    week: Span,
    exclude_session_id: int | None = None,
) -> int:
    q = _counting(organization, week, exclude_session_id) & Q(course=course)
    return _minutes(q & _on_session(student_id))


def tutor_minutes(
    *,
    organization: Organization,
    tutor_id: int,
    week: Span,
    exclude_session_id: int | None = None,
) -> int:
    return _minutes(_counting(organization, week, exclude_session_id) & Q(tutor_id=tutor_id))


def pair_sessions(
    *,
    organization: Organization,
    tutor_id: int,
    student_id: int,
    day: Span,
    exclude_session_id: int | None = None,
) -> int:
    q = _counting(organization, day, exclude_session_id) & Q(tutor_id=tutor_id)
    return Session.objects.filter(q & _on_session(student_id)).count()


def check_booking_limits(
    *,
    organization: Organization,
    course: Course,
    tutor: User,
    students: Sequence[User],
    start: datetime,
    minutes: int,
    actor: User | None,
    exclude_session_id: int | None = None,
) -> None:
    """Refuse with `LimitExceeded` if booking `minutes` at `start` breaks a limit for the tutor
    or any of `students`. `exclude_session_id` is the session being accepted or moved, which
    must not count against itself. Call inside the booking's transaction, after
    `lock_people`."""
    zone = organization.zone
    now = timezone.now()
    check_session_length(
        minutes=minutes,
        maximum=organization.max_session_minutes,
        organization_name=organization.name,
    )
    day, week = local_day(start, zone), local_week(start, zone)
    for student in students:
        check_pair_daily(
            used=pair_sessions(
                organization=organization,
                tutor_id=tutor.pk,
                student_id=student.pk,
                day=day,
                exclude_session_id=exclude_session_id,
            ),
            allowed=organization.pair_sessions_per_day,
            student=student,
            tutor=tutor,
            day=day,
            actor=actor,
        )
    for student in students:
        check_student_course_weekly(
            used=student_course_minutes(
                organization=organization,
                course=course,
                student_id=student.pk,
                week=week,
                exclude_session_id=exclude_session_id,
            ),
            allowed=organization.student_weekly_minutes_per_course,
            minutes=minutes,
            student=student,
            course_code=course.code,
            week=week,
            now=now,
            zone=zone,
            actor=actor,
        )
    check_tutor_weekly(
        used=tutor_minutes(
            organization=organization,
            tutor_id=tutor.pk,
            week=week,
            exclude_session_id=exclude_session_id,
        ),
        allowed=organization.tutor_weekly_minutes,
        minutes=minutes,
        tutor=tutor,
        week=week,
        now=now,
        zone=zone,
        actor=actor,
    )


# -- what is left, for the booking forms ---------------------------------------------------


@dataclass(frozen=True)
class StudentAllowance:
    student: User
    course_minutes_left: int
    sessions_with_tutor_that_day: int


@dataclass(frozen=True)
class Allowance:
    """What the tutor and each student have left in the week (and day) of `start`."""

    course: Course
    tutor: User
    day: Span
    week: Span
    max_session_minutes: int
    pair_sessions_per_day: int
    student_weekly_minutes: int
    tutor_weekly_minutes: int
    tutor_minutes_left: int
    students: list[StudentAllowance]


# Bookings and the allowance look at most this far from today, either way.
HORIZON = timedelta(days=365)


def check_within_a_year(start: datetime, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if start > now + HORIZON:
        raise RuleViolation(
            "Sessions can be booked at most a year ahead; choose an earlier date.",
            code="start_too_far_ahead",
            field="start",
        )
    if start < now - HORIZON:
        raise RuleViolation(
            "That date is more than a year ago; choose a recent date.",
            code="start_too_far_in_past",
            field="start",
        )


def allowance(
    *,
    organization: Organization,
    course: Course,
    tutor: User,
    students: Sequence[User],
    start: datetime,
    exclude_session_id: int | None = None,
) -> Allowance:
    """What is left of each limit in the day and week of `start`. A start more than a year
    away either way is refused (no session can be booked there; a date near the calendar's
    ends cannot even be moved into the organization's zone)."""
    check_within_a_year(start)
    zone = organization.zone
    day, week = local_day(start, zone), local_week(start, zone)
    used_by_tutor = tutor_minutes(
        organization=organization,
        tutor_id=tutor.pk,
        week=week,
        exclude_session_id=exclude_session_id,
    )
    return Allowance(
        course=course,
        tutor=tutor,
        day=day,
        week=week,
        max_session_minutes=organization.max_session_minutes,
        pair_sessions_per_day=organization.pair_sessions_per_day,
        student_weekly_minutes=organization.student_weekly_minutes_per_course,
        tutor_weekly_minutes=organization.tutor_weekly_minutes,
        tutor_minutes_left=max(organization.tutor_weekly_minutes - used_by_tutor, 0),
        students=[
            StudentAllowance(
                student=student,
                course_minutes_left=max(
                    organization.student_weekly_minutes_per_course
                    - student_course_minutes(
                        organization=organization,
                        course=course,
                        student_id=student.pk,
                        week=week,
                        exclude_session_id=exclude_session_id,
                    ),
                    0,
                ),
                sessions_with_tutor_that_day=pair_sessions(
                    organization=organization,
                    tutor_id=tutor.pk,
                    student_id=student.pk,
                    day=day,
                    exclude_session_id=exclude_session_id,
                ),
            )
            for student in students
        ],
    )
