"""Checks and normalisation for free text that people type."""

import re
import unicodedata

from studyhall.core.errors import InvalidInput

_WHITESPACE_RUN = re.compile(r"\s+")
_ALLOWED_CONTROL = {"\n", "\r", "\t"}


def collapse_whitespace(text: str) -> str:
    """Trim, and fold every run of white space (spaces, tabs, newlines) to one space."""
    return _WHITESPACE_RUN.sub(" ", text).strip()


def counted_length(text: str) -> int:
    """Characters as the recap rule counts them: after trimming and collapsing white space."""
    return len(collapse_whitespace(text))


def clean_text(text: str, *, field: str, max_length: int) -> str:
    """Refuse control characters and overlong text; return the text trimmed."""
    for char in text:
        if char not in _ALLOWED_CONTROL and unicodedata.category(char) in {"Cc", "Cs"}:
            raise InvalidInput(
                f"{field} contains an invisible control character; remove it and try again.",
                field=field,
            )
    cleaned = text.strip()
    if len(cleaned) > max_length:
        raise InvalidInput(
            f"{field} is {len(cleaned):,} characters long; keep it under {max_length:,}.",
            code="text_too_long",
            field=field,
        )
    return cleaned
