"""Reasons and notes that people type in Support's forms."""

from __future__ import annotations

from studyhall.core.errors import InvalidInput
from studyhall.core.text import clean_text


def required_text(value: object, *, field: str, max_length: int, missing: str) -> str:
    """Trimmed text that must not be empty; `missing` says what to write when it is."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text.", field=field)
    text = clean_text(value, field=field, max_length=max_length)
    if not text:
        raise InvalidInput(missing, code="reason_required", field=field)
    return text
