"""The audit log: every state or money change records one entry in its own transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from studyhall.core.models import AuditEntry


def record(
    *,
    # Any user: the user model lives above core, in accounts.
    actor: AbstractBaseUser | None,
    action: str,
    organization_id: int | None = None,
    session_id: int | None = None,
    **data: Any,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor_id=None if actor is None else actor.pk,
        action=action,
        organization_id=organization_id,
        session_id=session_id,
        data=data,
    )
