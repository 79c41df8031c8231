"""The private feed's secret: created on first use, replaced on request."""

from __future__ import annotations

import secrets

from django.db import transaction

from studyhall.accounts.models import User
from studyhall.calendars.models import CalendarFeed
from studyhall.core import audit

TOKEN_BYTES = 32


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def feed_of(user: User) -> CalendarFeed:
    """The user's feed, created with a fresh token the first time it is asked for."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user, defaults={"token": _new_token()})
    return feed


def regenerate_feed(*, actor: User) -> CalendarFeed:
    """A new secret URL; the old one stops working at once."""
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(user=actor).first()
        if feed is None:
            feed = CalendarFeed.objects.create(user=actor, token=_new_token())
        else:
            feed.token = _new_token()
            feed.save(update_fields=["token"])
        audit.record(actor=actor, action="calendar.feed_regenerated")
    return feed
