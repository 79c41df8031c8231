"""Dates and times inside sentences a service wrote: `{{ message|with_time:moment }}` marks the
first date or time the sentence shows as a `<time datetime=...>` element, so that what it
means is in the markup as it is for dates a template formats itself (WCAG 2.1 1.3.1)."""

from __future__ import annotations

import re
from datetime import date, datetime

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

register = template.Library()

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
# "on Thu, Dec 3 at 2:45 PM EST", "Nov 23–29, 2026", "Nov 30 – Dec 6, 2026", "Fri Dec 11".
_PHRASE = re.compile(
    rf"(?:on )?(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? )?{_MONTH} \d{{1,2}}"
    rf"(?: ?– ?(?:{_MONTH} )?\d{{1,2}})?(?:, \d{{4}})?"
    r"(?: at \d{1,2}:\d{2} ?(?:AM|PM)(?: [A-Z][A-Za-z+\-0-9]*)?)?"
)


def _iso(moment: object) -> str | None:
    if isinstance(moment, dict):
        # A refusal's extra facts (`opens_at`): the first of them that is a moment.
        return next((iso for value in moment.values() if (iso := _iso(value))), None)
    if isinstance(moment, datetime | date):
        return moment.isoformat()
    if isinstance(moment, str) and moment:
        try:
            return datetime.fromisoformat(moment).isoformat()
        except ValueError:
            return None
    return None


@register.filter
def with_time(text: object, moment: object) -> SafeString:
    """The text, escaped, with its first date phrase in a `<time>` for `moment` (a date, a
    datetime, its ISO text, or a refusal's `extra` facts holding one). Without a moment, or a
    phrase, it is the escaped text."""
    escaped = str(conditional_escape(str(text)))
    iso = _iso(moment)
    found = _PHRASE.search(str(text)) if iso else None
    if iso is None or found is None:
        return SafeString(escaped)
    phrase = found[0]
    shown = str(conditional_escape(phrase))
    marked = format_html('<time datetime="{}">{}</time>', iso, phrase)
    return SafeString(escaped.replace(shown, str(marked), 1))
