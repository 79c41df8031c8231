"""Small parsing helpers shared by the Support views."""

from __future__ import annotations


def int_param(value: str | None) -> int | None:
    """A positive whole number from a query or form value, else None."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None
