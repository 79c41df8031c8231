"""The time zones a person can choose: the IANA names of places, grouped by region, each
labelled with its current offset from UTC."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import cache

from django.utils import timezone

REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
Choices = list[tuple[str, str] | tuple[str, list[tuple[str, str]]]]


@cache
def place_zones() -> tuple[str, ...]:
    """'Europe/Berlin', 'America/Argentina/Buenos_Aires' … — not the legacy aliases (EST5EDT,
    US/Eastern), which browsers do not report and people do not look for."""
    return tuple(
        sorted(name for name in zoneinfo.available_timezones() if name.split("/")[0] in REGIONS)
    )


def offset_label(name: str, at: datetime) -> str:
    offset = at.astimezone(zoneinfo.ZoneInfo(name)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def zone_choices(*, include: str = "", now: datetime | None = None) -> Choices:
    """UTC first, then the places grouped by region. `include` adds a zone someone already
    has that is not in the list (an alias set by an admin), so a form does not drop it."""
    now = now or timezone.now()
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in place_zones():
        region, _, place = name.partition("/")
        label = f"{place.replace('_', ' ').replace('/', ' / ')} ({offset_label(name, now)})"
        groups.setdefault(region, []).append((name, label))
    choices: Choices = [("UTC", "UTC")]
    if include and include != "UTC" and include not in place_zones():
        choices.append((include, include))
    choices.extend((region, zones) for region, zones in groups.items())
    return choices


def is_choosable(name: str) -> bool:
    return name == "UTC" or name in place_zones()
