"""Whether a session can be completed right now, and if not, the exact refusal.

One function serves both the completion service (which raises the refusal, under the
session's lock) and the pages (which show it in place of the Complete Session button), so a
tutor reads the same words before and after pressing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from studyhall.accounts.models import User
from studyhall.core.errors import Conflict, DomainError, RuleViolation
from studyhall.tutoring import lifecycle
from studyhall.tutoring.call_presence import call_presence
from studyhall.tutoring.models import (
    MissedReason,
    Participant,
    ParticipantState,
    Session,
    Status,
)
from studyhall.tutoring.permissions import session_permissions
from studyhall.tutoring.rules import (
    completable_from,
    completion_deadline,
    describe_span,
    duration_label,
)
from studyhall.tutoring.text import names, when

NOT_COMPLETABLE_MESSAGES = {
    Status.REQUESTED: "You have not accepted this request yet; accept it first, then complete it.",
    Status.CANCELED: "This session was canceled, so there is nothing to log.",
    Status.DECLINED: "This session was declined, so there is nothing to log.",
    Status.MISSED: "This session was missed (no student accepted it), so it cannot be logged.",
}
# A missed session's refusal names why it was missed (`Session.missed_reason`).
MISSED_MESSAGES: dict[str, str] = {
    MissedReason.REQUEST_UNANSWERED: "This session was missed (the request was not answered "
    "in time), so it cannot be logged.",
    MissedReason.NOBODY_CAME: "This session was missed (no student came), so it cannot be logged.",
    MissedReason.TUTOR_NO_SHOW: "This session was missed (the tutor did not come), so it "
    "cannot be logged.",
}


def completion_refusal(
    *,
    session: Session,
    participants: Sequence[Participant],
    actor: User,
    now: datetime,
    ending_call: bool = False,
) -> DomainError | None:
    """The first rule that stops `actor` completing `session` at `now`, before the time and
    recap are looked at; None when nothing does. Rules 1, 2, 3, 4 and 8, in that order of
    what a tutor can do something about."""
    may = session_permissions(actor, session, now=now)
    if (forbidden := may.completion_refusal()) is not None:
        return forbidden
    is_tutor = may.is_tutor
    if session.status == Status.COMPLETED:
        completion = getattr(session, "completion", None)
        logged = f" ({duration_label(completion.minutes)} logged)" if completion else ""
        return Conflict(
            f"This session has already been completed{logged}.", code="already_completed"
        )
    if session.status not in lifecycle.COMPLETABLE:
        message = MISSED_MESSAGES.get(session.missed_reason) if session.missed_reason else None
        return Conflict(
            message
            or NOT_COMPLETABLE_MESSAGES.get(
                Status(session.status), "This session cannot be completed in its current state."
            ),
            code="session_not_completable",
        )
    if session.tutor_absence_reported_at is not None:
        return Conflict(
            "A student reported that the tutor did not come. The session can be logged once "
            "an org admin has decided the report.",
            code="tutor_absence_reported",
        )
    opens = completable_from(
        scheduled_start=session.scheduled_start, call_started_at=session.call_started_at
    )
    if now < opens:
        return RuleViolation(
            f"This session starts {when(opens, actor.zone)}; you can complete it from then.",
            code="session_not_started",
            opens_at=opens.isoformat(),
        )
    deadline = completion_deadline(
        scheduled_end=session.scheduled_end,
        call_ended_at=session.call_ended_at,
        grace_hours=session.organization.grace_hours,
        classroom_closes_at=session.classroom_closes_at,
    )
    # A support agent logging on the tutor's behalf is not bound by the grace period.
    if now > deadline and is_tutor:
        return RuleViolation(
            f"Logging closed {describe_span(now - deadline)} ago: the "
            f"{session.organization.grace_hours}-hour grace period ended "
            f"{when(deadline, actor.zone)}. Ask Support to log this session for you.",
            code="grace_period_expired",
            closed_at=deadline.isoformat(),
        )
    pending = [p.user for p in participants if p.state == ParticipantState.INVITED]
    if pending:
        verb = "has" if len(pending) == 1 else "have"
        return RuleViolation(
            f"{names(pending)} {verb} not accepted the invitation yet. If they did not come, "
            "remove them from the session, then complete it.",
            code="participants_not_accepted",
            user_ids=[u.pk for u in pending],
        )
    if not any(p.state == ParticipantState.ACCEPTED for p in participants):
        return RuleViolation(
            "No student remains on this session, so there is no one to log it for. "
            "Cancel it instead.",
            code="no_participants",
        )
    if ending_call or not session.is_online:
        # "Log time & leave call": the call ends for everyone still in it. An in-person
        # session has no call to be in.
        return None
    present = call_presence().user_ids_in_call(session.pk) - {session.tutor_id}
    if present:
        still_in = [p.user for p in participants if p.user_id in present]
        label = names(still_in) if still_in else f"{len(present)} participant(s)"
        verb = "is" if len(present) == 1 else "are"
        return RuleViolation(
            f"{label} {verb} still in the call. Complete the session once everyone has left, "
            "or use “Log time & leave call” in the classroom.",
            code="participants_in_call",
            user_ids=sorted(present),
        )
    return None
