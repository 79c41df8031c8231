"""Changes a person makes to their own account."""

from __future__ import annotations

from studyhall.accounts.models import User
from studyhall.accounts.timezones import is_choosable
from studyhall.core.errors import InvalidInput


def set_time_zone(*, actor: User, time_zone: str) -> User:
    """Every time shown to the actor from now on is in this zone."""
    time_zone = (time_zone or "").strip()
    if time_zone != actor.time_zone and not is_choosable(time_zone):
        raise InvalidInput(
            f"{time_zone or 'That'} is not a time zone we know; choose one from the list "
            "(like America/New_York).",
            code="invalid_time_zone",
            field="time_zone",
        )
    if time_zone != actor.time_zone:
        actor.time_zone = time_zone
        actor.save(update_fields=["time_zone"])
    return actor
