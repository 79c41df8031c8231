"""Free text people type: white space as the recap rule counts it, and what is refused."""

from __future__ import annotations

import pytest

from studyhall.core.errors import InvalidInput
from studyhall.core.text import clean_text, collapse_whitespace, counted_length

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a   b", "a b"),
        ("  leading and trailing  ", "leading and trailing"),
        ("tabs\t\tbetween", "tabs between"),
        ("lines\n\n\nbetween\r\nthem", "lines between them"),
        (f"{NBSP}no{NBSP}{NBSP}break{NBSP}", "no break"),
        (" \t\n mixed \t \n runs \n", "mixed runs"),
        ("", ""),
        (" \n\t ", ""),
        ("unchanged", "unchanged"),
    ],
)
def test_collapse_whitespace(text: str, expected: str) -> None:
    assert collapse_whitespace(text) == expected


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("a   b", 3),
        ("  abc  ", 3),
        ("a\tb\nc", 5),
        (f"a{NBSP}{NBSP}b", 3),
        ("\n\n\n", 0),
        ("x" * 150 + " " * 40 + "\n" * 10, 150),
    ],
)
def test_counted_length(text: str, length: int) -> None:
    assert counted_length(text) == length


def test_clean_text_trims_and_keeps_inner_white_space() -> None:
    assert clean_text("  one\n\ttwo  three \n", field="Notes", max_length=100) == (
        "one\n\ttwo  three"
    )


@pytest.mark.parametrize("text", ["line one\nline two", "tab\tseparated", "windows\r\nline"])
def test_clean_text_allows_newlines_tabs_and_carriage_returns(text: str) -> None:
    assert clean_text(text, field="Notes", max_length=100) == text


@pytest.mark.parametrize(
    "char", ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\ud800"]
)
def test_clean_text_refuses_control_characters(char: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        clean_text(f"before{char}after", field="Topics covered", max_length=100)
    assert raised.value.code == "invalid_input"
    assert raised.value.http_status == 400
    assert raised.value.extra == {"field": "Topics covered"}
    assert raised.value.message == (
        "Topics covered contains an invisible control character; remove it and try again."
    )


def test_clean_text_at_the_max_length_is_kept() -> None:
    assert clean_text("x" * 10, field="Notes", max_length=10) == "x" * 10


def test_clean_text_counts_the_length_after_trimming() -> None:
    assert clean_text("   " + "x" * 10 + "\n\n", field="Notes", max_length=10) == "x" * 10


def test_clean_text_over_the_max_length_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        clean_text("x" * 2001, field="Notes", max_length=2000)
    assert raised.value.code == "text_too_long"
    assert raised.value.message == "Notes is 2,001 characters long; keep it under 2,000."


@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\u202e", "right-to-left override"),
        ("\u202a", "left-to-right embedding"),
        ("\u2066", "left-to-right isolate"),
        ("\u200f", "right-to-left mark"),
        ("\u200b", "zero width space"),
        ("\u2060", "word joiner"),
        ("\ufeff", "zero width no-break space"),
        ("\u00ad", "soft hyphen"),
    ],
)
def test_clean_text_refuses_bidi_and_zero_width_characters(char: str, name: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        clean_text(f"Jordan{char}Rivera", field="Name", max_length=100)
    assert raised.value.code == "invisible_character"
    assert raised.value.http_status == 400
    assert raised.value.extra == {"field": "Name"}
    assert raised.value.message == (
        f"Name contains an invisible character (U+{ord(char):04X}, {name}) that changes how "
        "the text looks or reads; remove it and try again."
    )


@pytest.mark.parametrize(
    "text",
    [
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with a non-joiner
        "family \U0001f468\u200d\U0001f469\u200d\U0001f467",  # an emoji sequence (joiners)
        "\u05e9\u05dc\u05d5\u05dd and hello",  # Hebrew beside English, no override needed
    ],
)
def test_clean_text_keeps_joiners_that_scripts_and_emoji_need(text: str) -> None:
    assert clean_text(text, field="Notes", max_length=100) == text
