"""Wording shared by services and pages: names in a list, moments in a viewer's zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from studyhall.accounts.models import User


def names(users: Sequence[User]) -> str:
    shown = [u.display_name for u in users]
    if len(shown) <= 2:
        return " and ".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def when(moment: datetime, zone: ZoneInfo) -> str:
    """'on Tue, Nov 25 at 3:00 PM EST' in the given zone, with the zone named."""
    local = moment.astimezone(zone)
    hour = local.strftime("%I").lstrip("0")
    return f"on {local:%a, %b} {local.day} at {hour}:{local:%M %p} {local.tzname()}"
