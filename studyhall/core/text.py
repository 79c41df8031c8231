"""Checks and normalisation for free text that people type."""

import re
import unicodedata

from studyhall.core.errors import InvalidInput

_WHITESPACE_RUN = re.compile(r"\s+")
_ALLOWED_CONTROL = {"\n", "\r", "\t"}
# Invisible formatting characters (Unicode category Cf) are refused: bidirectional overrides,
# embeddings and isolates reorder what the reader sees ("evil\u202etxt.exe"), and zero-width
# spaces, word joiners, soft hyphens and byte-order marks hide inside names so that two people
# look alike. The zero-width non-joiner and joiner stay: Persian, Indic scripts and emoji
# sequences need them.
_ALLOWED_FORMAT = {"\u200c", "\u200d"}


def collapse_whitespace(text: str) -> str:
    """Trim, and fold every run of white space (spaces, tabs, newlines) to one space."""
    return _WHITESPACE_RUN.sub(" ", text).strip()


def counted_length(text: str) -> int:
    """Characters as the recap rule counts them: after trimming and collapsing white space."""
    return len(collapse_whitespace(text))


def clean_text(text: str, *, field: str, max_length: int) -> str:
    """Refuse control and invisible formatting characters and overlong text; trim the rest."""
    for char in text:
        category = unicodedata.category(char)
        if category in {"Cc", "Cs"} and char not in _ALLOWED_CONTROL:
            raise InvalidInput(
                f"{field} contains an invisible control character; remove it and try again.",
                field=field,
            )
        if category == "Cf" and char not in _ALLOWED_FORMAT:
            name = unicodedata.name(char, "formatting character").lower()
            raise InvalidInput(
                f"{field} contains an invisible character (U+{ord(char):04X}, {name}) that "
                "changes how the text looks or reads; remove it and try again.",
                code="invisible_character",
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
