"""The mechanics of a proposed new time, shared by the scheduling and rescheduling services:
who must answer it, putting the earlier answers back, moving the session to the new time.

While a proposal is open the session keeps its agreed time (calendars and reminders follow
that one); the status and participant answers show who must answer. Callers hold the
session's lock and own the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.tutoring import lifecycle
from studyhall.tutoring.models import (
    ON_SESSION,
    Participant,
    ParticipantState,
    ProposalState,
    Session,
    Status,
    TimeProposal,
)
from studyhall.tutoring.services.notify import after_commit_session_event


def open_proposal(session: Session) -> TimeProposal | None:
    return TimeProposal.objects.filter(session=session, state=ProposalState.OPEN).first()


def awaits(proposal: TimeProposal, session: Session, user: User) -> bool:
    """Whether `user` is who must answer the proposal: the tutor for a student's proposal,
    each student still invited for the tutor's."""
    if not proposal.by_tutor:
        return session.tutor_id == user.pk
    return session.participants.filter(user=user, state=ParticipantState.INVITED).exists()


def status_from_answers(states: Iterable[str]) -> Status | None:
    """Before anyone meets, the status follows the students' answers: someone still invited →
    Invited; everyone remaining accepted → Scheduled; every student declined → Declined;
    otherwise (only removed students left) no change."""
    states = list(states)
    if ParticipantState.INVITED in states:
        return Status.INVITED
    if ParticipantState.ACCEPTED in states:
        return Status.SCHEDULED
    if ParticipantState.DECLINED in states and ParticipantState.REMOVED not in states:
        return Status.DECLINED
    return None


def snapshot(session: Session) -> dict[str, str]:
    return {
        str(user_id): state
        for user_id, state in session.participants.filter(state__in=ON_SESSION).values_list(
            "user_id", "state"
        )
    }


def restore(
    session: Session,
    proposal: TimeProposal,
    *,
    state: ProposalState,
    actor: User | None,
    message: str = "",
) -> None:
    """Put back the answers and status the proposal changed (students who left since stay
    gone), and close the proposal as `state`."""
    participants = {
        str(p.user_id): p for p in Participant.objects.filter(session=session, state__in=ON_SESSION)
    }
    for user_id, previous in proposal.previous_states.items():
        participant = participants.get(user_id)
        if participant is not None and participant.state != previous:
            participant.state = previous
            participant.save(update_fields=["state"])
    if session.status in lifecycle.PENDING:
        if proposal.previous_status == Status.REQUESTED:
            target: Status | None = Status.REQUESTED
        else:
            target = status_from_answers(session.participants.values_list("state", flat=True))
        if target is not None and target != session.status:
            lifecycle.move(session, target)
            session.save(update_fields=["status", "ended_at", "updated_at"])
    _close(proposal, state=state, actor=actor, message=message)


def apply(session: Session, proposal: TimeProposal, *, actor: User | None) -> None:
    """Everyone who must has accepted: the session moves to the new time and is Scheduled,
    with an audit entry and word to everyone on it."""
    session.scheduled_start = proposal.scheduled_start
    session.planned_minutes = proposal.planned_minutes
    lifecycle.move(session, Status.SCHEDULED)
    session.save(
        update_fields=["scheduled_start", "planned_minutes", "status", "ended_at", "updated_at"]
    )
    _close(proposal, state=ProposalState.ACCEPTED, actor=actor)
    audit.record(
        actor=actor,
        action="session.rescheduled",
        organization_id=session.organization_id,
        session_id=session.pk,
        proposal_id=proposal.pk,
        scheduled_start=proposal.scheduled_start.isoformat(),
        planned_minutes=proposal.planned_minutes,
        previous_start=proposal.previous_start.isoformat(),
        previous_minutes=proposal.previous_minutes,
    )
    after_commit_session_event(
        session_id=session.pk,
        event="reschedule_accepted",
        actor_id=actor.pk if actor is not None else None,
    )


def close(session: Session) -> None:
    """The session ended (canceled, declined, missed): nothing is left to answer."""
    proposal = open_proposal(session)
    if proposal is not None:
        _close(proposal, state=ProposalState.CLOSED, actor=None)


def _close(
    proposal: TimeProposal, *, state: ProposalState, actor: User | None, message: str = ""
) -> None:
    proposal.state = state
    proposal.answered_by = actor
    proposal.answered_at = timezone.now()
    proposal.answer_message = message
    proposal.save(update_fields=["state", "answered_by", "answered_at", "answer_message"])
