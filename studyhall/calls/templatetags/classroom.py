"""The way into the online classroom from a session's page.

A template tag rather than view context so that the tutoring app, which the classroom builds
on, does not have to import it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.calls.services import OPENS_BEFORE_START, join_refusal
from studyhall.tutoring.models import Session
from studyhall.tutoring.permissions import session_permissions

register = template.Library()


@register.inclusion_tag("calls/_entry.html", takes_context=True)
def classroom_entry(context: template.Context, session: Session) -> dict[str, Any]:
    """For the tutor and accepted students of an online session: the Join button while the
    classroom is open, otherwise one line saying why it is not."""
    user = context.get("user")
    now = context.get("now")
    shown: dict[str, Any] = {"session": session, "show": False}
    if not session.is_online or not isinstance(user, User) or not user.is_authenticated:
        return shown
    moment = now if isinstance(now, datetime) else timezone.now()
    if not session_permissions(user, session, now=moment).join_call:
        return shown
    refusal = join_refusal(user, session, now=moment)
    # The moment a refusal names (when the classroom opens, or when it closed), for its <time>.
    opens = session.scheduled_start - OPENS_BEFORE_START
    at = opens if moment < opens else session.classroom_closes_at
    return shown | {"show": True, "refusal": refusal, "refusal_at": at}
