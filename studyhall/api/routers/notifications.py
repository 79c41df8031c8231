"""The caller's notifications: list them (all or unread), mark one or all read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.params.functions import Query

from studyhall.api.auth import actor_of
from studyhall.api.schemas import MAX_OFFSET, ProblemOut
from studyhall.notifications import selectors, services
from studyhall.notifications.models import Kind, Notification

router = Router(tags=["notifications"])

ERRORS = {(401, 404, 422): ProblemOut}


class NotificationOut(Schema):
    id: int
    kind: str = Field(description=f"What it is about: one of {', '.join(Kind.values)}.")
    event: str = Field(description="The precise happening, like accepted or before_1h.")
    title: str
    link: str = Field(description="The page it points to (a path), or empty.")
    session_id: int | None
    created_at: datetime
    read_at: datetime | None
    unread: bool


class NotificationPage(Schema):
    notifications: list[NotificationOut]
    unread_count: int
    limit: int
    offset: int
    next_offset: int | None


class ReadAllOut(Schema):
    marked_read: int
    unread_count: int


def notification_out(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "kind": n.kind,
        "event": n.event,
        "title": n.title,
        "link": n.link,
        "session_id": n.session_id,
        "created_at": n.created_at,
        "read_at": n.read_at,
        "unread": n.read_at is None,
    }


@router.get("", response={200: NotificationPage, **ERRORS})
def list_notifications(
    request: HttpRequest,
    unread: bool = Query(False, description="Only the unread ones."),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """Your notifications, newest first, with how many are unread."""
    actor = actor_of(request)
    rows = list(selectors.notifications_of(actor, unread_only=unread)[offset : offset + limit + 1])
    return {
        "notifications": [notification_out(n) for n in rows[:limit]],
        "unread_count": actor.unread_notifications,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(rows) > limit else None,
    }


@router.post("/read-all", response={200: ReadAllOut, **ERRORS})
def read_all(request: HttpRequest) -> dict[str, Any]:
    """Mark every unread notification read."""
    actor = actor_of(request)
    count = services.mark_all_read(actor=actor)
    return {"marked_read": count, "unread_count": actor.unread_notifications}


@router.post("/{int:notification_id}/read", response={200: NotificationOut, **ERRORS})
def read_one(request: HttpRequest, notification_id: int) -> dict[str, Any]:
    """Mark one notification read (again is harmless). Someone else's is 404."""
    notification = services.mark_read(actor=actor_of(request), notification_id=notification_id)
    return notification_out(notification)
