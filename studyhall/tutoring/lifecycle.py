"""The one table of allowed session status moves. Every status change goes through `move`."""

from __future__ import annotations

from django.utils import timezone

from studyhall.core.errors import Conflict
from studyhall.tutoring.models import Session, Status

S = Status
ALLOWED_MOVES: frozenset[tuple[str, str]] = frozenset(
    {
        # A request: the tutor answers it, or either side calls it off. Missed when nobody
        # answered it before logging would have closed.
        (S.REQUESTED, S.SCHEDULED),
        (S.REQUESTED, S.DECLINED),
        (S.REQUESTED, S.CANCELED),
        (S.REQUESTED, S.MISSED),
        # An invitation: students answer; once nobody is left pending it is settled. Missed
        # when its start passes with no student accepted.
        (S.INVITED, S.SCHEDULED),
        (S.INVITED, S.DECLINED),
        (S.INVITED, S.CANCELED),
        (S.INVITED, S.MISSED),
        (S.INVITED, S.STARTING),
        (S.INVITED, S.IN_PROGRESS),
        # Scheduled: everyone agreed. The last student may still withdraw (Declined), the
        # tutor may report that nobody came (Missed), or the classroom opens.
        (S.SCHEDULED, S.DECLINED),
        (S.SCHEDULED, S.CANCELED),
        (S.SCHEDULED, S.MISSED),
        (S.SCHEDULED, S.STARTING),
        (S.SCHEDULED, S.IN_PROGRESS),
        (S.SCHEDULED, S.COMPLETED),
        # A new time proposed: whoever must answer it decides the status. The tutor proposing
        # makes it Invited (awaiting students), a student proposing makes it Requested
        # (awaiting the tutor); declining it, or its expiry, puts the earlier answers back.
        (S.REQUESTED, S.INVITED),
        (S.INVITED, S.REQUESTED),
        (S.SCHEDULED, S.REQUESTED),
        (S.SCHEDULED, S.INVITED),
        # The online classroom follows who is in the call; when the last person leaves the
        # session settles back to what its participants' answers say.
        (S.STARTING, S.IN_PROGRESS),
        (S.STARTING, S.SCHEDULED),
        (S.STARTING, S.INVITED),
        (S.STARTING, S.COMPLETED),
        (S.IN_PROGRESS, S.STARTING),
        (S.IN_PROGRESS, S.SCHEDULED),
        (S.IN_PROGRESS, S.INVITED),
        (S.IN_PROGRESS, S.COMPLETED),
    }
)
TERMINAL = frozenset({S.COMPLETED, S.CANCELED, S.DECLINED, S.MISSED})
# Before anyone has met: the states in which participants' answers decide the status.
PENDING = frozenset({S.REQUESTED, S.INVITED, S.SCHEDULED})
# The states from which a session may be completed (rule 2 then checks its participants).
COMPLETABLE = frozenset({S.INVITED, S.SCHEDULED, S.STARTING, S.IN_PROGRESS})


def can_move(current: str, target: str) -> bool:
    return (current, target) in ALLOWED_MOVES


def move(session: Session, target: Status) -> None:
    """Change the status in memory (the service saves); refuse moves the table does not allow."""
    if session.status == target:
        return
    if not can_move(session.status, target):
        raise Conflict(
            f"A session that is {Status(session.status).label.lower()} cannot become "
            f"{target.label.lower()}.",
            code="invalid_transition",
        )
    session.status = target
    if target in TERMINAL:
        session.ended_at = timezone.now()
