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

    The call is the time the tutor and at least one accepted student are in together; someone
    alone in the classroom is not a call and moves neither its start nor its end. `emptied_at`
    is when the person whose leaving changed things left (for a connection that timed out, its
    last heartbeat), used as the call's end when the tutor and students part.
    """
    if session.status not in FOLLOWS_CALL:
        return
    states = dict(session.participants.values_list("user_id", "state"))
    accepted = {uid for uid, state in states.items() if state == ParticipantState.ACCEPTED}
    together = session.tutor_id in present_user_ids and bool(present_user_ids & accepted)
    fields = set()
    if together and session.call_started_at is None:
        session.call_started_at = now
        fields.add("call_started_at")
    if session.status == Status.IN_PROGRESS and not together:
        session.call_ended_at = emptied_at
        fields.add("call_ended_at")
    if together:
        target = Status.IN_PROGRESS
    elif present_user_ids:
        target = Status.STARTING
    else:
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
