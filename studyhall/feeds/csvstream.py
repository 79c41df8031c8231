"""CSV written one row at a time, so a file of any length streams in bounded memory."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime


class _Line:
    """A file-like object whose write() hands back what it was given (Django's recipe for
    streaming CSV): csv.writer formats a row, and the row is yielded rather than buffered."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def safe(value: object) -> str:
    """Keep a spreadsheet from running a cell as a formula (a name like '=HYPERLINK(...)')."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def iso_utc(moment: datetime | None) -> str:
    """2026-03-08T07:00:00Z: what every export writes for a time, whatever the zone."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(cents: int | None) -> str:
    """1375 → '13.75', −250 → '-2.50'."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def joined(values: Iterable[object]) -> str:
    """Several values in one cell, separated by semicolons (people, courses, roles)."""
    return ";".join(safe(v) for v in values)


def flag(value: bool) -> str:
    return "true" if value else "false"
