"""The audit log: every state or money change records one entry in its own transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studyhall.core.models import AuditEntry

if TYPE_CHECKING:
    from studyhall.accounts.models import User


def record(
    *,
    actor: User | None,
    action: str,
    organization_id: int | None = None,
    session_id: int | None = None,
    **data: Any,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        organization_id=organization_id,
        session_id=session_id,
        data=data,
    )
