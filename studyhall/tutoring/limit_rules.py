"""The booking limits (organization policy) as pure rules: which sessions count, the calendar
day and week they are counted in, and the refusal that says which limit and what is left.

Days and weeks are read on the organization's wall clock: a week runs from Monday 00:00 to the
next Monday 00:00 there, so a week that spans a daylight-saving change is 167 or 169 hours
long, and a session at 23:30 on Sunday in New York belongs to that Sunday's week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from studyhall.accounts.models import User
from studyhall.core.errors import RuleViolation
from studyhall.tutoring.models import ParticipantState, Status

# What a booking uses up: everything not called off. Pending sessions count, so two requests
# cannot each take the last free hour.
COUNTING_STATUSES = (
    Status.REQUESTED,
    Status.INVITED,
    Status.SCHEDULED,
    Status.STARTING,
    Status.IN_PROGRESS,
    Status.COMPLETED,
)
# A student counts a session while they are on it (asked, or said yes).
COUNTING_PARTICIPANT_STATES = (ParticipantState.INVITED, ParticipantState.ACCEPTED)


class Limit(StrEnum):
    SESSION_LENGTH = "session_length"
    PAIR_DAILY = "pair_daily"
    STUDENT_COURSE_WEEKLY = "student_course_weekly"
    TUTOR_WEEKLY = "tutor_weekly"


class LimitExceeded(RuleViolation):
    """A booking limit refuses the session. `limit` names it, `remaining_minutes` says what is
    left of it (for the API's problem body)."""

    code = "limit_exceeded"
    title = "Over a booking limit"

    def __init__(self, message: str, *, limit: Limit, remaining_minutes: int, **extra: Any):
        super().__init__(message, limit=str(limit), remaining_minutes=remaining_minutes, **extra)
        self.limit = limit
        self.remaining_minutes = remaining_minutes


@dataclass(frozen=True)
class Span:
    """[start, end) of a local calendar day or week, in UTC. (Subtracting two datetimes that
    share a ZoneInfo compares wall clocks, which would hide the daylight-saving hour.)"""

    start: datetime
    end: datetime
    first_day: date


def local_day(moment: datetime, zone: ZoneInfo) -> Span:
    day = moment.astimezone(zone).date()
    return Span(_midnight(day, zone), _midnight(day + timedelta(days=1), zone), day)


def local_week(moment: datetime, zone: ZoneInfo) -> Span:
    """Monday to Sunday on the local clock."""
    day = moment.astimezone(zone).date()
    monday = day - timedelta(days=day.weekday())
    return Span(_midnight(monday, zone), _midnight(monday + timedelta(days=7), zone), monday)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


# -- wording -------------------------------------------------------------------------------


def spoken_minutes(minutes: int) -> str:
    """'no time', '45 minutes', '1 hour', '2 hours 15 minutes'."""
    if minutes <= 0:
        return "no time"
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append("1 hour" if hours == 1 else f"{hours} hours")
    if rest:
        parts.append("1 minute" if rest == 1 else f"{rest} minutes")
    return " ".join(parts)


def day_label(day: date) -> str:
    return f"{day:%a, %b} {day.day}"


def week_phrase(week: Span, *, now: datetime, zone: ZoneInfo) -> str:
    """'this week', 'next week', or 'in the week of Mon, Mar 10'."""
    current = local_week(now, zone).first_day
    if week.first_day == current:
        return "this week"
    if week.first_day == current + timedelta(days=7):
        return "next week"
    return f"in the week of {day_label(week.first_day)}"


def _subject(user: User, actor: User | None) -> tuple[str, str]:
    """('You', 'have') when the actor is the person the limit is about, else their name."""
    if actor is not None and user.pk == actor.pk:
        return "You", "have"
    return user.display_name, "has"


def _other(user: User, actor: User | None) -> str:
    return "you" if actor is not None and user.pk == actor.pk else user.display_name


# -- the four checks -----------------------------------------------------------------------


def check_session_length(*, minutes: int, maximum: int, organization_name: str) -> None:
    if minutes > maximum:
        raise LimitExceeded(
            f"Sessions at {organization_name} last at most {spoken_minutes(maximum)}; "
            f"{spoken_minutes(minutes)} is too long.",
            limit=Limit.SESSION_LENGTH,
            remaining_minutes=maximum,
            limit_minutes=maximum,
        )


def check_pair_daily(
    *, used: int, allowed: int, student: User, tutor: User, day: Span, actor: User | None
) -> None:
    if used < allowed:
        return
    who, have = _subject(student, actor)
    rule = (
        "a tutor and a student meet at most once a day"
        if allowed == 1
        else f"a tutor and a student meet at most {allowed} times a day"
    )
    already = "a session" if used == 1 else f"{used} sessions"
    raise LimitExceeded(
        f"{who} already {have} {already} with {_other(tutor, actor)} on "
        f"{day_label(day.first_day)}; {rule}.",
        limit=Limit.PAIR_DAILY,
        remaining_minutes=0,
        user_id=student.pk,
        day=day.first_day.isoformat(),
        limit_sessions=allowed,
    )


def check_student_course_weekly(
    *,
    used: int,
    allowed: int,
    minutes: int,
    student: User,
    course_code: str,
    week: Span,
    now: datetime,
    zone: ZoneInfo,
    actor: User | None,
) -> None:
    left = max(allowed - used, 0)
    if minutes <= left:
        return
    who, have = _subject(student, actor)
    raise LimitExceeded(
        f"{who} {have} {spoken_minutes(left)} left for {course_code} "
        f"{week_phrase(week, now=now, zone=zone)} ({spoken_minutes(allowed)} a week per "
        f"course); this session needs {spoken_minutes(minutes)}.",
        limit=Limit.STUDENT_COURSE_WEEKLY,
        remaining_minutes=left,
        limit_minutes=allowed,
        user_id=student.pk,
        week_start=week.first_day.isoformat(),
    )


def check_tutor_weekly(
    *,
    used: int,
    allowed: int,
    minutes: int,
    tutor: User,
    week: Span,
    now: datetime,
    zone: ZoneInfo,
    actor: User | None,
) -> None:
    left = max(allowed - used, 0)
    if minutes <= left:
        return
    who, have = _subject(tutor, actor)
    left_phrase = f"{spoken_minutes(left)} of tutoring" if left else "no tutoring time"
    raise LimitExceeded(
        f"{who} {have} {left_phrase} left "
        f"{week_phrase(week, now=now, zone=zone)} ({spoken_minutes(allowed)} a week); "
        f"this session needs {spoken_minutes(minutes)}.",
        limit=Limit.TUTOR_WEEKLY,
        remaining_minutes=left,
        limit_minutes=allowed,
        user_id=tutor.pk,
        week_start=week.first_day.isoformat(),
    )
