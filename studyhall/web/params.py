"""Query and form values read leniently: anything unreadable counts as not given."""

from __future__ import annotations

from datetime import date

# Eighteen digits always fit a 64-bit primary key.
MAX_DIGITS = 18


def int_param(value: str | None) -> int | None:
    """A whole number (0 or more) from a query or form value, else None."""
    if value and value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS:
        return int(value)
    return None


def date_param(value: str | None) -> date | None:
    """A day written as YYYY-MM-DD, else None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
