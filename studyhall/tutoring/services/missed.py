"""Missed sessions: marked by a periodic job when nobody agreed to meet in time, or reported by
the tutor when nobody came. A missed session is over; nobody can log it, so the tutor is not
paid for it.

The job (`tutoring.tasks.mark_missed_sessions`) is idempotent: each session is re-checked
under its lock, and one that is no longer due is left alone, so two runs mark it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden
from studyhall.tutoring import lifecycle
from studyhall.tutoring.access import access_session
from studyhall.tutoring.models import (
    Participant,
    ParticipantState,
    ProposalState,
    Session,
    Status,
    TimeProposal,
)
from studyhall.tutoring.rules import completable_from, completion_deadline
from studyhall.tutoring.services import proposals
from studyhall.tutoring.services.notify import after_commit_session_event

# Why the job marked a session missed (kept in its audit entry).
NO_STUDENT_ACCEPTED = "no_student_accepted"
REQUEST_UNANSWERED = "request_unanswered"
NOBODY_CAME = "nobody_came"


def missed_reason(
    session: Session, *, now: datetime, has_accepted: bool | None = None
) -> str | None:
    """Whether the job should mark `session` missed at `now`, and why.

    - An invitation whose start passes with no student accepted is missed at its start. (A
      student still invited beside one who accepted does not make it missed: the session
      stays Invited and that student blocks completion until they accept or are removed.)
    - An invitation recorded after its start (an in-person session logged after the fact)
      gets until the end of its grace period for a student to accept.
    - A request the tutor never answered is missed when logging would have closed; until
      then the tutor can still accept it and log the session.
    """
    if session.status not in (Status.INVITED, Status.REQUESTED):
        return None
    deadline = completion_deadline(
        scheduled_end=session.scheduled_end,
        call_ended_at=session.call_ended_at,
        grace_hours=session.organization.grace_hours,
        classroom_closes_at=session.classroom_closes_at,
    )
    if session.status == Status.REQUESTED:
        return REQUEST_UNANSWERED if now >= deadline else None
    if has_accepted is None:
        has_accepted = session.participants.filter(state=ParticipantState.ACCEPTED).exists()
    if has_accepted:
        return None
    due = deadline if session.recorded_after_the_fact else session.scheduled_start
    return NO_STUDENT_ACCEPTED if now >= due else None


@dataclass
class SweepResult:
    expired_proposals: list[int] = field(default_factory=list)
    missed_sessions: list[int] = field(default_factory=list)


def sweep(*, now: datetime | None = None) -> SweepResult:
    """Expire new times nobody answered before they (or the agreed time) arrived, then mark
    the sessions that are now missed. Each session in its own transaction."""
    now = now or timezone.now()
    result = SweepResult()
    due_proposals = TimeProposal.objects.filter(state=ProposalState.OPEN).filter(
        Q(scheduled_start__lte=now) | Q(session__scheduled_start__lte=now)
    )
    for proposal_id, session_id in due_proposals.values_list("pk", "session_id"):
        if _expire_proposal(proposal_id, session_id, now=now):
            result.expired_proposals.append(proposal_id)
    accepted = Participant.objects.filter(session=OuterRef("pk"), state=ParticipantState.ACCEPTED)
    candidates = (
        Session.objects.filter(scheduled_start__lte=now)
        .filter(Q(status=Status.REQUESTED) | (Q(status=Status.INVITED) & ~Exists(accepted)))
        .select_related("organization")
        .order_by("scheduled_start", "pk")
    )
    # Most candidates are not due yet (a request waits for the grace period's end); only the
    # due ones are locked, and checked again under the lock. One query, however many: an
    # invitation among the candidates has no accepted student.
    due = [s.pk for s in candidates if missed_reason(s, now=now, has_accepted=False) is not None]
    for session_id in due:
        if _mark_missed(session_id, now=now):
            result.missed_sessions.append(session_id)
    return result


def _expire_proposal(proposal_id: int, session_id: int, *, now: datetime) -> bool:
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=session_id)
        )
        proposal = TimeProposal.objects.filter(pk=proposal_id, state=ProposalState.OPEN).first()
        if proposal is None:
            return False
        if min(proposal.scheduled_start, session.scheduled_start) > now:
            return False
        proposals.restore(session, proposal, state=ProposalState.EXPIRED, actor=None)
        audit.record(
            actor=None,
            action="session.time_expired",
            organization_id=session.organization_id,
            session_id=session.pk,
            proposal_id=proposal.pk,
        )
    return True


def _mark_missed(session_id: int, *, now: datetime) -> bool:
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=session_id)
        )
        reason = missed_reason(session, now=now)
        if reason is None:
            return False
        _miss(session, actor=None, reason=reason)
    return True


def report_nobody_came(*, session_id: int, actor: User) -> Session:
    """The tutor (or Support) says nobody came: the session is Missed and is not logged.
    Only once it has started (before that, cancel it)."""
    with transaction.atomic():
        session = access_session(
            actor, session_id, queryset=Session.objects.select_for_update(of=("self",))
        )
        if session.tutor_id != actor.pk and not actor.is_support_agent:
            raise Forbidden("Only the session's tutor can report that nobody came.")
        if session.status == Status.MISSED:
            return session
        if session.status not in (Status.INVITED, Status.SCHEDULED):
            raise Conflict(
                f"A session that is {session.get_status_display().lower()} cannot be "
                "marked as missed.",
                code="invalid_transition",
            )
        opens = completable_from(
            scheduled_start=session.scheduled_start, call_started_at=session.call_started_at
        )
        if timezone.now() < opens:
            raise Conflict(
                "This session has not started yet. If it will not take place, cancel it.",
                code="session_not_started",
            )
        _miss(session, actor=actor, reason=NOBODY_CAME)
    return session


def _miss(session: Session, *, actor: User | None, reason: str) -> None:
    lifecycle.move(session, Status.MISSED)
    session.save(update_fields=["status", "ended_at", "updated_at"])
    proposals.close(session)
    audit.record(
        actor=actor,
        action="session.missed",
        organization_id=session.organization_id,
        session_id=session.pk,
        reason=reason,
    )
    after_commit_session_event(
        session_id=session.pk,
        event="missed",
        actor_id=actor.pk if actor is not None else None,
        reason=reason,
    )
