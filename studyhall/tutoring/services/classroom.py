"""How the online classroom moves a session's status: Starting when someone is in, In progress
while the tutor and a student are in together, and back when the room empties."""

from __future__ import annotations

from datetime import datetime

from studyhall.core import audit
from studyhall.tutoring import lifecycle
from studyhall.tutoring.models import ParticipantState, Session, Status

FOLLOWS_CALL = frozenset({Status.INVITED, Status.SCHEDULED, Status.STARTING, Status.IN_PROGRESS})


def follow_call(
    *, session: Session, present_user_ids: set[int], now: datetime, emptied_at: datetime
) -> None:
    """Bring a locked session's status and call times in line with who is in the call.

    `emptied_at` is when the last person left (for a connection that timed out, its last
    heartbeat), used as the call's end when nobody remains.
    """
    if session.status not in FOLLOWS_CALL:
        return
    states = dict(session.participants.values_list("user_id", "state"))
    accepted = {uid for uid, state in states.items() if state == ParticipantState.ACCEPTED}
    fields = set()
    if present_user_ids:
        if session.call_started_at is None:
            session.call_started_at = now
            fields.add("call_started_at")
        together = session.tutor_id in present_user_ids and bool(present_user_ids & accepted)
        target = Status.IN_PROGRESS if together else Status.STARTING
    else:
        if session.status in (Status.STARTING, Status.IN_PROGRESS):
            session.call_ended_at = emptied_at
            fields.add("call_ended_at")
        pending = ParticipantState.INVITED in states.values()
        target = Status.INVITED if pending else Status.SCHEDULED
    previous = session.status
    if target != previous:
        lifecycle.move(session, target)
        fields.update({"status", "ended_at"})
        audit.record(
            actor=None,
            action="session.call_status",
            organization_id=session.organization_id,
            session_id=session.pk,
            previous=previous,
            status=target,
            present_user_ids=sorted(present_user_ids),
        )
    if fields:
        session.save(update_fields=[*sorted(fields), "updated_at"])
