"""Reads for the notification list, the header count and the email settings."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from studyhall.accounts.models import User
from studyhall.notifications.models import EmailPreference, Kind, Notification


def notifications_of(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    """Newest first, with each one's session and course joined (one query per page)."""
    qs = Notification.objects.filter(user=user).select_related("session", "session__course")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def email_choices(user: User) -> dict[str, bool]:
    """Every kind, and whether the user gets it by email (yes unless they turned it off)."""
    chosen = dict(EmailPreference.objects.filter(user=user).values_list("kind", "by_email"))
    return {kind: chosen.get(kind, True) for kind in Kind.values}


def email_wanted(user_ids: Sequence[int], kind: str) -> set[int]:
    """Of these users, those who get this kind by email."""
    declined = set(
        EmailPreference.objects.filter(user_id__in=user_ids, kind=kind, by_email=False).values_list(
            "user_id", flat=True
        )
    )
    return {pk for pk in user_ids if pk not in declined}
