"""Money as whole cents plus a currency. Never floats; one rounding rule for the whole product."""

from __future__ import annotations

from dataclasses import dataclass

CURRENCY_EXPONENTS = {"USD": 2, "CAD": 2, "EUR": 2, "GBP": 2, "AUD": 2, "NZD": 2, "CHF": 2}
CURRENCY_CHOICES = [(code, code) for code in CURRENCY_EXPONENTS]
CURRENCY_SYMBOLS = {"USD": "$", "CAD": "CA$", "EUR": "€", "GBP": "£", "AUD": "A$", "NZD": "NZ$"}


def divide_round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (away from zero for negatives), exactly."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return sign * quotient


def earnings_cents(*, hourly_rate_cents: int, minutes: int) -> int:
    """Earnings for a session: rate × minutes ÷ 60, rounded half up to the cent."""
    return divide_round_half_up(hourly_rate_cents * minutes, 60)


@dataclass(frozen=True, slots=True)
class Money:
    cents: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.cents, int) or isinstance(self.cents, bool):
            raise TypeError("Money is whole cents (int)")
        if self.currency not in CURRENCY_EXPONENTS:
            raise ValueError(f"unsupported currency {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents - other.cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def format(self) -> str:
        return format_cents(self.cents, self.currency)

    def __str__(self) -> str:
        return self.format()


def format_cents(cents: int, currency: str) -> str:
    """$1,375.50 style; negative amounts as −$3.00 so a shortfall is visible."""
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    sign = "−" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def parse_decimal_amount(text: str) -> int:
    """'15', '15.5', '17.99' → cents. Raises ValueError with a readable message."""
    cleaned = text.strip().replace(",", "").lstrip("$")
    if not cleaned or cleaned.count(".") > 1:
        raise ValueError("Enter an amount like 15.00")
    whole, _, part = cleaned.partition(".")
    if not whole.isdigit() or (part and not part.isdigit()) or len(part) > 2:
        raise ValueError("Enter an amount like 15.00, with at most two decimals")
    return int(whole) * 100 + int((part + "00")[:2])
