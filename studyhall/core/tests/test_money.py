"""Money: whole cents, one rounding rule (half up), and the formatting people read."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studyhall.core.money import (
    Money,
    divide_round_half_up,
    earnings_cents,
    format_cents,
    parse_decimal_amount,
)
from studyhall.tutoring.rules import DURATION_CHOICES

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    ("rate", "minutes", "expected"),
    [
        (1500, 55, 1375),  # $15.00 × 55 min
        (1799, 25, 750),  # 44975 / 60 = 749.58 → 750
        (1500, 60, 1500),
        (1500, 5, 125),
        (1500, 90, 2250),
        (1506, 5, 126),  # 7530 / 60 = 125.5 exactly → half up
        (1505, 5, 125),  # 7525 / 60 = 125.41… → down
        (1234, 35, 720),  # 43190 / 60 = 719.83 → 720
        (100, 5, 8),  # the lowest allowed rate: 500 / 60 = 8.33 → 8
        (2000, 45, 1500),
        (100000, 90, 150000),
    ],
)
def test_earnings_cents_exact(rate: int, minutes: int, expected: int) -> None:
    assert earnings_cents(hourly_rate_cents=rate, minutes=minutes) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (1, 2, 1),  # exactly half rounds up
        (3, 2, 2),
        (-3, 2, -2),  # and away from zero for negatives
        (-1, 2, -1),
        (5, 10, 1),
        (4, 10, 0),
        (0, 7, 0),
        (14, 7, 2),
        (7530, 60, 126),
        (7529, 60, 125),
    ],
)
def test_divide_round_half_up(numerator: int, denominator: int, expected: int) -> None:
    assert divide_round_half_up(numerator, denominator) == expected


@pytest.mark.parametrize("denominator", [0, -60])
def test_divide_round_half_up_refuses_a_non_positive_denominator(denominator: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        divide_round_half_up(10, denominator)


def _exact_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


@given(
    rate=st.integers(min_value=100, max_value=100_000),
    minutes=st.sampled_from(DURATION_CHOICES),
)
def test_earnings_equal_exact_fraction_rounded_half_up(rate: int, minutes: int) -> None:
    assert earnings_cents(hourly_rate_cents=rate, minutes=minutes) == _exact_half_up(
        Fraction(rate * minutes, 60)
    )


@given(numerator=st.integers(min_value=-(10**12), max_value=10**12))
def test_divide_round_half_up_is_symmetric_around_zero(numerator: int) -> None:
    assert divide_round_half_up(-numerator, 60) == -divide_round_half_up(numerator, 60)


@pytest.mark.parametrize(
    ("cents", "currency", "expected"),
    [
        (1375, "USD", "$13.75"),
        (123456, "USD", "$1,234.56"),
        (-300, "USD", "−$3.00"),
        (0, "USD", "$0.00"),
        (5, "USD", "$0.05"),
        (100000000, "USD", "$1,000,000.00"),
        (1999, "EUR", "€19.99"),
        (250, "CAD", "CA$2.50"),
        (250, "CHF", "CHF 2.50"),  # no symbol: the code stands in for it
    ],
)
def test_format_cents(cents: int, currency: str, expected: str) -> None:
    assert format_cents(cents, currency) == expected


def test_money_arithmetic_in_one_currency() -> None:
    a = Money(1375, "USD")
    b = Money(625, "USD")
    assert a + b == Money(2000, "USD")
    assert a - b == Money(750, "USD")
    assert b - a == Money(-750, "USD")
    assert -a == Money(-1375, "USD")
    assert str(a + b) == "$20.00"
    assert (b - a).format() == "−$7.50"


def test_money_refuses_to_mix_currencies() -> None:
    with pytest.raises(ValueError, match="cannot mix USD and EUR"):
        Money(100, "USD") + Money(100, "EUR")
    with pytest.raises(ValueError, match="cannot mix USD and EUR"):
        Money(100, "USD") - Money(100, "EUR")


@pytest.mark.parametrize("cents", [1.5, 10.0, "100", True, None])
def test_money_is_whole_cents_only(cents: object) -> None:
    with pytest.raises(TypeError):
        Money(cents, "USD")  # type: ignore[arg-type]


def test_money_refuses_an_unknown_currency() -> None:
    with pytest.raises(ValueError, match="unsupported currency"):
        Money(100, "XYZ")


@pytest.mark.parametrize(
    ("text", "cents"),
    [("15", 1500), ("15.5", 1550), ("17.99", 1799), ("$1,234.50", 123450), (" 0.05 ", 5)],
)
def test_parse_decimal_amount(text: str, cents: int) -> None:
    assert parse_decimal_amount(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "17.999", "-5", "1e3", "15.x"])
def test_parse_decimal_amount_refuses_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match=r"Enter an amount like 15\.00"):
        parse_decimal_amount(text)
