"""The completion rules as pure functions, at every boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from studyhall.core.errors import InvalidInput, RuleViolation
from studyhall.tutoring.rules import (
    DURATION_CHOICES,
    DURATION_OPTIONS,
    RECAP_PROMPTS,
    Recap,
    check_duration,
    check_recap,
    classroom_closes_at,
    completable_from,
    completion_deadline,
    describe_span,
    duration_label,
    is_overlogged,
    measurement_warning,
    recap_length,
    round_up_to_choice,
)

ALL_DURATIONS = [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90]
T0 = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)


def answers_of_length(total: int, *, pad: str = "") -> dict[str, str]:
    """Three non-empty answers that count `total` characters together, each wrapped in `pad`."""
    topics = ("Moles, molar mass and limiting reagents; " * 100)[: total - 2]
    if topics.endswith(" "):
        topics = topics[:-1] + "."
    return {
        "topics_covered": f"{pad}{topics}{pad}",
        "tutee_progress": f"{pad}a{pad}",
        "next_steps": f"{pad}b{pad}",
    }


# -- durations ----------------------------------------------------------------------------


def test_the_eighteen_duration_choices() -> None:
    assert DURATION_CHOICES == ALL_DURATIONS
    assert len(DURATION_OPTIONS) == 18
    assert [value for value, _ in DURATION_OPTIONS] == ALL_DURATIONS
    assert DURATION_OPTIONS[0] == (5, "5 min")
    assert DURATION_OPTIONS[-1] == (90, "1 h 30 min")


@pytest.mark.parametrize("minutes", ALL_DURATIONS)
def test_check_duration_accepts_each_choice(minutes: int) -> None:
    assert check_duration(minutes) == minutes


@pytest.mark.parametrize("minutes", [0, 1, 4, 6, 7, 89, 91, 95, 120, -5, 10**9])
def test_check_duration_refuses_other_numbers(minutes: int) -> None:
    with pytest.raises(RuleViolation) as raised:
        check_duration(minutes)
    assert raised.value.code == "invalid_duration"
    assert raised.value.http_status == 422
    assert f"; {minutes} is not." in raised.value.message
    assert raised.value.message.startswith(
        "The time spent must be one of 5, 10, 15 … 90 minutes (5-minute steps, at most 1 h 30 min)"
    )
    assert raised.value.message.endswith("If the real time falls between two choices, round up.")


@pytest.mark.parametrize("value", ["60", 60.0, 45.5, True, False, None, [60], {"m": 60}])
def test_check_duration_refuses_non_integers(value: object) -> None:
    with pytest.raises(RuleViolation) as raised:
        check_duration(value)
    assert raised.value.code == "invalid_duration"
    assert "; that is not." in raised.value.message


def test_check_duration_names_what_is_checked() -> None:
    with pytest.raises(RuleViolation, match=r"^The planned length must be one of"):
        check_duration(7, what="The planned length")


@pytest.mark.parametrize(
    ("minutes", "label"),
    [
        (5, "5 min"),
        (55, "55 min"),
        (60, "1 h"),
        (65, "1 h 5 min"),
        (90, "1 h 30 min"),
        (120, "2 h"),
    ],
)
def test_duration_label(minutes: int, label: str) -> None:
    assert duration_label(minutes) == label


@pytest.mark.parametrize(
    ("measured", "choice"),
    [
        (0, 5),
        (0.1, 5),
        (-3, 5),
        (4.99, 5),
        (5, 5),
        (5.01, 10),
        (9.5, 10),
        (10, 10),
        (59.9, 60),
        (61, 65),
        (89, 90),
        (90, 90),
        (90.5, 90),
        (200, 90),
    ],
)
def test_round_up_to_choice(measured: float, choice: int) -> None:
    assert round_up_to_choice(measured) == choice


# -- recap --------------------------------------------------------------------------------


def test_answers_helper_counts_what_it_says() -> None:
    for total in (9, 149, 150, 400):
        assert recap_length(answers_of_length(total)) == total
        assert recap_length(answers_of_length(total, pad=" \n\t ")) == total


def test_recap_of_exactly_150_characters_is_accepted() -> None:
    recap = check_recap(answers_of_length(150), min_chars=150)
    assert isinstance(recap, Recap)
    assert recap.counted_chars == 150


def test_recap_of_149_characters_is_refused_with_the_exact_message() -> None:
    with pytest.raises(RuleViolation) as raised:
        check_recap(answers_of_length(149), min_chars=150)
    assert raised.value.code == "recap_too_short"
    assert raised.value.http_status == 422
    assert raised.value.message.startswith(
        "Your recap has 149 characters; it needs at least 150 (1 more)."
    )
    assert raised.value.extra == {"characters": 149, "required": 150}


def test_recap_minimum_comes_from_the_caller() -> None:
    assert check_recap(answers_of_length(100), min_chars=100).counted_chars == 100
    with pytest.raises(RuleViolation, match=r"has 99 characters; it needs at least 100 \(1 more\)"):
        check_recap(answers_of_length(99), min_chars=100)


@pytest.mark.parametrize("pad", [" ", "      ", "\n\n", "\t \n \t", "\u00a0 \u00a0"])
def test_white_space_padding_does_not_count(pad: str) -> None:
    # 149 characters stay 149 however much padding surrounds them...
    with pytest.raises(RuleViolation) as raised:
        check_recap(answers_of_length(149, pad=pad), min_chars=150)
    assert raised.value.code == "recap_too_short"
    assert raised.value.extra["characters"] == 149
    # ...and 150 padded characters are still 150, stored trimmed.
    recap = check_recap(answers_of_length(150, pad=pad), min_chars=150)
    assert recap.counted_chars == 150
    assert recap.tutee_progress == "a"
    assert recap.next_steps == "b"


def test_runs_of_white_space_inside_an_answer_count_as_one() -> None:
    runs = {"topics_covered": "a   b", "tutee_progress": "c\n\n\nd", "next_steps": "e\t\tf"}
    assert recap_length(runs) == 9
    with pytest.raises(RuleViolation) as raised:
        check_recap(runs, min_chars=150)
    assert raised.value.extra["characters"] == 9
    # 146 + 1 + "a   b" counted as 3 = 150: enough.
    answers = answers_of_length(148)
    answers["next_steps"] = "a   b"
    assert check_recap(answers, min_chars=150).counted_chars == 150
    # A lone "b" wrapped in runs of white space counts 1: 148, short by two.
    answers["next_steps"] = "\n  b \t\t\n  \n"
    with pytest.raises(RuleViolation) as raised:
        check_recap(answers, min_chars=150)
    assert raised.value.extra["characters"] == 148


def test_inner_white_space_is_stored_as_typed() -> None:
    answers = answers_of_length(200)
    answers["next_steps"] = "  Practice:\n\n- problem 1\n- problem 2  "
    recap = check_recap(answers, min_chars=150)
    assert recap.next_steps == "Practice:\n\n- problem 1\n- problem 2"


@pytest.mark.parametrize("key", list(RECAP_PROMPTS))
@pytest.mark.parametrize("empty", ["", "   ", "\n\t\n", None])
def test_each_empty_prompt_is_named(key: str, empty: object) -> None:
    answers: dict[str, object] = {**answers_of_length(400)}
    answers[key] = empty
    with pytest.raises(RuleViolation) as raised:
        check_recap(answers, min_chars=150)
    assert raised.value.code == "recap_incomplete"
    assert raised.value.message == f"Answer every recap prompt; “{RECAP_PROMPTS[key]}” is empty."
    assert raised.value.extra == {"missing": [key]}


@pytest.mark.parametrize("key", list(RECAP_PROMPTS))
def test_a_missing_prompt_is_named(key: str) -> None:
    answers = answers_of_length(400)
    del answers[key]
    with pytest.raises(RuleViolation) as raised:
        check_recap(answers, min_chars=150)
    assert raised.value.code == "recap_incomplete"
    assert raised.value.extra == {"missing": [key]}


def test_several_empty_prompts_are_all_named() -> None:
    with pytest.raises(RuleViolation) as raised:
        check_recap({"tutee_progress": "x" * 300, "next_steps": " "}, min_chars=150)
    assert raised.value.message == (
        "Answer every recap prompt; “Topics covered” and “Next steps” are empty."
    )
    assert raised.value.extra == {"missing": ["topics_covered", "next_steps"]}

    with pytest.raises(RuleViolation) as raised:
        check_recap({}, min_chars=150)
    assert raised.value.message == (
        "Answer every recap prompt; “Topics covered”, “How your tutee did” and “Next steps” "
        "are empty."
    )


@pytest.mark.parametrize("value", [42, 1.5, True, ["text"], {"text": "x"}, b"bytes"])
def test_a_non_text_answer_is_invalid_input(value: object) -> None:
    answers: dict[str, object] = {**answers_of_length(400)}
    answers["tutee_progress"] = value
    with pytest.raises(InvalidInput) as raised:
        check_recap(answers, min_chars=150)
    assert raised.value.code == "invalid_input"
    assert raised.value.http_status == 400
    assert raised.value.message == "“How your tutee did” must be text."


def test_control_characters_in_an_answer_are_refused() -> None:
    answers = answers_of_length(400)
    answers["next_steps"] = "Read chapter 3\x00"
    with pytest.raises(InvalidInput) as raised:
        check_recap(answers, min_chars=150)
    assert raised.value.code == "invalid_input"
    assert "Next steps contains an invisible control character" in raised.value.message


def test_an_overlong_answer_is_refused() -> None:
    answers = answers_of_length(400)
    answers["topics_covered"] = "x" * 4001
    with pytest.raises(InvalidInput) as raised:
        check_recap(answers, min_chars=150)
    assert raised.value.code == "text_too_long"
    answers["topics_covered"] = "x" * 4000
    assert check_recap(answers, min_chars=150).counted_chars == 4002


# -- timing -------------------------------------------------------------------------------


def test_completable_from_the_scheduled_start_without_a_call() -> None:
    assert completable_from(scheduled_start=T0, call_started_at=None) == T0


def test_completable_from_an_earlier_call_start() -> None:
    early = T0 - timedelta(minutes=7)
    assert completable_from(scheduled_start=T0, call_started_at=early) == early


def test_a_later_call_start_does_not_delay_completion() -> None:
    late = T0 + timedelta(minutes=7)
    assert completable_from(scheduled_start=T0, call_started_at=late) == T0


def deadline(end: datetime, call_end: datetime | None, *, grace: int = 72) -> datetime:
    return completion_deadline(
        scheduled_end=end,
        call_ended_at=call_end,
        grace_hours=grace,
        classroom_closes_at=classroom_closes_at(scheduled_end=end, closes_minutes=90),
    )


def test_completion_deadline_is_grace_hours_after_the_scheduled_end() -> None:
    end = T0 + timedelta(minutes=60)
    assert deadline(end, None) == end + timedelta(hours=72)
    assert deadline(end, None, grace=24) == end + timedelta(hours=24)


def test_a_later_call_end_extends_the_deadline() -> None:
    end = T0 + timedelta(minutes=60)
    call_end = end + timedelta(minutes=25)
    assert deadline(end, call_end) == call_end + timedelta(hours=72)


def test_an_earlier_call_end_does_not_shorten_the_deadline() -> None:
    end = T0 + timedelta(minutes=60)
    call_end = end - timedelta(minutes=25)
    assert deadline(end, call_end) == end + timedelta(hours=72)


def test_a_call_counts_only_until_the_classroom_closes() -> None:
    end = T0 + timedelta(minutes=60)
    closes = end + timedelta(minutes=90)
    assert classroom_closes_at(scheduled_end=end, closes_minutes=90) == closes
    assert deadline(end, closes) == closes + timedelta(hours=72)
    assert deadline(end, closes + timedelta(seconds=1)) == closes + timedelta(hours=72)
    assert deadline(end, closes + timedelta(days=2)) == closes + timedelta(hours=72)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "less than a minute"),
        (timedelta(seconds=59), "less than a minute"),
        (timedelta(seconds=-30), "less than a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=1, seconds=59), "1 minute"),
        (timedelta(minutes=2), "2 minutes"),
        (timedelta(minutes=59, seconds=59), "59 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=1, minutes=59), "1 hour"),
        (timedelta(hours=31), "31 hours"),
        (timedelta(hours=47, minutes=59), "47 hours"),
        (timedelta(hours=48), "48 hours"),
        (timedelta(hours=71), "71 hours"),
        (timedelta(days=3), "72 hours"),
        (timedelta(hours=73), "3 days"),
    ],
)
def test_describe_span(delta: timedelta, text: str) -> None:
    assert describe_span(delta) == text


# -- measured time: what the tutor confirms before logging ----------------------------------

OVER = (
    "You are logging 1 h, but the classroom measured 38 min with you and a student together. "
    "If your time is right, confirm it and log it again: the session will be flagged for your "
    "program to review."
)
UNMEASURED = (
    "The classroom measured no time with you and a student together, yet you are logging "
    "45 min. If you met anyway (by phone, say), confirm the time and log it again: the session "
    "will be flagged for your program to review."
)


@pytest.mark.parametrize(
    ("minutes", "measured_seconds", "over"),
    [
        (53, 38 * 60, False),  # exactly 15 minutes above: within the tolerance
        (53, 38 * 60 - 1, True),  # a second more than that: over it
        (90, 75 * 60, False),
        (90, 75 * 60 - 1, True),
        (5, 30, False),
    ],
)
def test_the_tolerance_is_fifteen_minutes_above_the_measured_time(
    minutes: int, measured_seconds: int, over: bool
) -> None:
    assert is_overlogged(minutes=minutes, measured_seconds=measured_seconds) is over
    warning = measurement_warning(minutes=minutes, measured_seconds=measured_seconds)
    assert (warning.code if warning else None) == ("confirm_over_measured" if over else None)


def test_over_the_measured_time_names_both_times() -> None:
    warning = measurement_warning(minutes=60, measured_seconds=38 * 60 + 10)
    assert isinstance(warning, RuleViolation)
    assert (warning.code, warning.message, warning.http_status) == (
        "confirm_over_measured",
        OVER,
        422,
    )
    assert warning.extra == {"minutes": 60, "measured_seconds": 38 * 60 + 10}


def test_under_a_minute_measured_reads_less_than_a_minute() -> None:
    warning = measurement_warning(minutes=60, measured_seconds=20)
    assert warning is not None
    assert "the classroom measured less than a minute with you" in warning.message


@pytest.mark.parametrize("measured", [None, 0, 0.0])
def test_nothing_measured_together_asks_for_any_time(measured: float | None) -> None:
    warning = measurement_warning(minutes=45, measured_seconds=measured)
    assert warning is not None
    assert (warning.code, warning.message) == ("confirm_unmeasured", UNMEASURED)
    assert warning.extra == {"minutes": 45, "measured_seconds": 0}
    assert is_overlogged(minutes=45, measured_seconds=None) is False
