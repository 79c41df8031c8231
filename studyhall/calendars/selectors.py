"""Which sessions a person's calendar shows."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from studyhall.accounts.models import User
from studyhall.calendars.models import CalendarFeed
from studyhall.tutoring.models import ON_SESSION, Session, Status
from studyhall.tutoring.selectors import with_details

# "Recent": a month back, so last week's sessions are still there to look at.
RECENT = timedelta(days=30)


FEED_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def feed_owner(token: str) -> User | None:
    # Tokens are URL-safe base64; anything else (a NUL byte, which PostgreSQL refuses in a
    # query) names no feed.
    if not FEED_TOKEN.fullmatch(token):
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        return None
    return feed.user


def feed_sessions(user: User, *, now: datetime) -> QuerySet[Session]:
    """Every session the user tutors or is still on (invited or accepted), from 30 days ago
    on. Canceled ones stay (marked cancelled, so calendars strike them); declined requests
    never happened and are left out, as are sessions the user declined or was removed from."""
    mine = Q(tutor=user) | Q(participants__user=user, participants__state__in=ON_SESSION)
    return with_details(
        Session.objects.filter(mine, scheduled_start__gte=now - RECENT)
        .exclude(status=Status.DECLINED)
        .distinct()
        .order_by("scheduled_start", "id")
    )
