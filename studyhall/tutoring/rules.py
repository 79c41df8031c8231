"""The precise completion rules as pure functions, so they are easy to test at every boundary."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from studyhall.core.errors import InvalidInput, RuleViolation
from studyhall.core.text import clean_text, collapse_whitespace

MIN_MINUTES = 5
MAX_MINUTES = 90
MINUTE_STEP = 5
DURATION_CHOICES = list(range(MIN_MINUTES, MAX_MINUTES + 1, MINUTE_STEP))
RECAP_ANSWER_MAX_CHARS = 4000

RECAP_PROMPTS = {
    "topics_covered": "Topics covered",
    "tutee_progress": "How your tutee did",
    "next_steps": "Next steps",
}


def duration_label(minutes: int) -> str:
    """5 min … 55 min, 1 h, 1 h 5 min … 1 h 30 min."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest} min"


DURATION_OPTIONS = [(m, duration_label(m)) for m in DURATION_CHOICES]


def check_duration(minutes: object, *, what: str = "The time spent") -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes not in DURATION_CHOICES:
        shown = minutes if isinstance(minutes, int) and not isinstance(minutes, bool) else "that"
        raise RuleViolation(
            f"{what} must be one of 5, 10, 15 … 90 minutes (5-minute steps, at most 1 h 30 min); "
            f"{shown} is not. If the real time falls between two choices, round up.",
            code="invalid_duration",
        )
    return minutes


# Logging more than this above the time measured in the classroom asks the tutor to confirm,
# and flags the completion for review.
OVERLOG_TOLERANCE_SECONDS = 15 * 60
CONFIRM_OVER_MEASURED = "confirm_over_measured"
CONFIRM_UNMEASURED = "confirm_unmeasured"
CONFIRMATION_CODES = frozenset({CONFIRM_OVER_MEASURED, CONFIRM_UNMEASURED})


def measured_label(seconds: float) -> str:
    """Whole minutes as the pages write durations ('38 min', '1 h 5 min'); under half a
    minute is 'less than a minute' rather than '0 min'."""
    minutes = round(seconds / 60)
    return duration_label(minutes) if minutes else "less than a minute"


def is_overlogged(*, minutes: int, measured_seconds: float | None) -> bool:
    """More than the tolerance above a measured time (nothing measured is not over it)."""
    return measured_seconds is not None and minutes * 60 > measured_seconds + (
        OVERLOG_TOLERANCE_SECONDS
    )


def measurement_warning(*, minutes: int, measured_seconds: float | None) -> RuleViolation | None:
    """For an online session, what the tutor must confirm before the time is logged: a time
    well above what the classroom measured with the tutor and a student together, or any time
    when nothing was measured together. None when the time fits what was measured."""
    logged = duration_label(minutes)
    if not measured_seconds or measured_seconds <= 0:
        return RuleViolation(
            "The classroom measured no time with you and a student together, yet you are "
            f"logging {logged}. If you met anyway (by phone, say), confirm the time and log it "
            "again: the session will be flagged for your program to review.",
            code=CONFIRM_UNMEASURED,
            minutes=minutes,
            measured_seconds=0,
        )
    if is_overlogged(minutes=minutes, measured_seconds=measured_seconds):
        return RuleViolation(
            f"You are logging {logged}, but the classroom measured "
            f"{measured_label(measured_seconds)} with you and a student together. If your time "
            "is right, confirm it and log it again: the session will be flagged for your "
            "program to review.",
            code=CONFIRM_OVER_MEASURED,
            minutes=minutes,
            measured_seconds=int(measured_seconds),
        )
    return None


def round_up_to_choice(minutes: float) -> int:
    """A measured time rounded up to the next 5 minutes, at least 5 and capped at 90."""
    steps = math.ceil(max(minutes, 0) / MINUTE_STEP)
    return min(max(steps * MINUTE_STEP, MIN_MINUTES), MAX_MINUTES)


@dataclass(frozen=True)
class Recap:
    topics_covered: str
    tutee_progress: str
    next_steps: str

    def answers(self) -> dict[str, str]:
        return {
            "topics_covered": self.topics_covered,
            "tutee_progress": self.tutee_progress,
            "next_steps": self.next_steps,
        }

    @property
    def counted_chars(self) -> int:
        return recap_length(self.answers())


def recap_length(answers: dict[str, str]) -> int:
    """The three answers' characters together, each trimmed with white-space runs as one."""
    return sum(len(collapse_whitespace(answers.get(key, "") or "")) for key in RECAP_PROMPTS)


def check_recap(answers: Mapping[str, object], *, min_chars: int) -> Recap:
    cleaned: dict[str, str] = {}
    for key, label in RECAP_PROMPTS.items():
        value = answers.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise InvalidInput(f"“{label}” must be text.", field=key)
        cleaned[key] = clean_text(value, field=label, max_length=RECAP_ANSWER_MAX_CHARS)
    missing = [RECAP_PROMPTS[key] for key, value in cleaned.items() if not value]
    if missing:
        raise RuleViolation(
            f"Answer every recap prompt; {_join(missing)} {'is' if len(missing) == 1 else 'are'} "
            "empty.",
            code="recap_incomplete",
            missing=[key for key, value in cleaned.items() if not value],
        )
    length = recap_length(cleaned)
    if length < min_chars:
        raise RuleViolation(
            f"Your recap has {length} characters; it needs at least {min_chars} "
            f"({min_chars - length} more). Two complete sentences are usually plenty.",
            code="recap_too_short",
            characters=length,
            required=min_chars,
        )
    return Recap(**cleaned)


def _join(words: list[str]) -> str:
    quoted = [f"“{word}”" for word in words]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def completable_from(*, scheduled_start: datetime, call_started_at: datetime | None) -> datetime:
    """Rule 3: from the scheduled start, or from when the online call began if earlier."""
    if call_started_at is not None and call_started_at < scheduled_start:
        return call_started_at
    return scheduled_start


def classroom_closes_at(*, scheduled_end: datetime, closes_minutes: int) -> datetime:
    """When the online classroom stops admitting anyone: `closes_minutes` after the scheduled
    end (policy: 90)."""
    return scheduled_end + timedelta(minutes=closes_minutes)


def completion_deadline(
    *,
    scheduled_end: datetime,
    call_ended_at: datetime | None,
    grace_hours: int,
    classroom_closes_at: datetime,
) -> datetime:
    """Rule 8: grace hours after the later of the scheduled end and the call's end.

    The call counts only up to the classroom's closing time, so once the classroom has closed
    the deadline is fixed: nothing anyone does afterwards can move it.
    """
    ended = scheduled_end
    if call_ended_at is not None and call_ended_at > ended:
        ended = min(call_ended_at, max(classroom_closes_at, scheduled_end))
    return ended + timedelta(hours=grace_hours)


def describe_span(delta: timedelta) -> str:
    """'31 hours', '45 minutes', '3 days' — for countdowns and 'closed N ago'."""
    seconds = max(int(delta.total_seconds()), 0)
    minutes = seconds // 60
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    hours = minutes // 60
    # A grace window is counted in hours (72 by default), which reads better than "2 days".
    if hours <= 72:
        return "1 hour" if hours == 1 else f"{hours} hours"
    days = hours // 24
    return f"{days} days"
