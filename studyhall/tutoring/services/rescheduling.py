"""Proposing a new time for a session, and accepting or declining it.

Either side may propose: the tutor for everyone on the session (each student still on it must
accept: Invited, "Awaiting student"), or the student of a one-to-one session (the tutor must
accept: Requested, "Awaiting tutor"). In a group only the tutor proposes, because one student
cannot agree a time on behalf of the others. The session keeps its agreed time until the
proposal is accepted; declining it puts back the answers and status it changed. A newer
proposal replaces an open one. A proposal nobody answered expires when either time arrives
(`services.missed`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, InvalidInput, RuleViolation
from studyhall.core.text import clean_text
from studyhall.tutoring import lifecycle
from studyhall.tutoring.models import (
    ParticipantState,
    ProposalState,
    Session,
    Status,
    TimeProposal,
)
from studyhall.tutoring.programs import check_new_time
from studyhall.tutoring.rules import check_duration
from studyhall.tutoring.services import proposals
from studyhall.tutoring.services.notify import after_commit_session_event
from studyhall.tutoring.services.scheduling import (
    ACTIVE_STATES,
    MAX_DAYS_AHEAD,
    REASON_MAX_CHARS,
    _answer,
    _check_limits_again,
    _locked,
    _refuse_once_started,
    _settle_status,
    _students_on,
)


def propose_time(
    *,
    session_id: int,
    actor: User,
    scheduled_start: datetime,
    planned_minutes: object = None,
    message: str = "",
) -> TimeProposal:
    """Propose `scheduled_start` (and optionally a new length) for the session."""
    with transaction.atomic():
        session = _locked(actor, session_id)
        by_tutor = session.tutor_id == actor.pk
        participant = None
        if not by_tutor:
            participant = session.participants.filter(user=actor).first()
            if participant is None or participant.state not in ACTIVE_STATES:
                raise Forbidden("Only the tutor and the students on a session can move it.")
        if session.status not in lifecycle.PENDING:
            raise Conflict(
                f"This session is {session.get_status_display().lower()}; its time can no "
                "longer change.",
                code="invalid_transition",
            )
        _refuse_once_started(session, "move")
        minutes = check_duration(
            session.planned_minutes if planned_minutes is None else planned_minutes,
            what="The planned length",
        )
        _check_new_start(scheduled_start)
        message = clean_text(message or "", field="Message", max_length=REASON_MAX_CHARS)

        current = proposals.open_proposal(session)
        if current is not None:
            # A counter-proposal, or the proposer changing their mind: start from the answers
            # everyone gave before any proposal.
            proposals.restore(session, current, state=ProposalState.SUPERSEDED, actor=actor)
        if (scheduled_start, minutes) == (session.scheduled_start, session.planned_minutes):
            raise InvalidInput(
                "That is the session's current time; choose a different one.",
                code="same_time",
            )
        students = _students_on(session)
        if not by_tutor and [s.pk for s in students] != [actor.pk]:
            raise Conflict(
                "In a group session only the tutor can propose a new time; ask "
                f"{session.tutor.display_name}, or leave the session if the time does not "
                "suit you.",
                code="group_reschedule_by_tutor",
            )
        _check_limits_again(
            session, students=students, actor=actor, start=scheduled_start, minutes=minutes
        )
        check_new_time(session, start=scheduled_start, minutes=minutes)
        proposal = TimeProposal.objects.create(
            session=session,
            proposed_by=actor,
            by_tutor=by_tutor,
            scheduled_start=scheduled_start,
            planned_minutes=minutes,
            message=message,
            previous_start=session.scheduled_start,
            previous_minutes=session.planned_minutes,
            previous_status=session.status,
            previous_states=proposals.snapshot(session),
        )
        if by_tutor:
            # Everyone agreed to the old time only: each student answers the new one.
            session.participants.filter(state=ParticipantState.ACCEPTED).update(
                state=ParticipantState.INVITED
            )
            lifecycle.move(session, Status.INVITED)
        else:
            # Proposing a time is agreeing to it.
            if participant is not None and participant.state != ParticipantState.ACCEPTED:
                _answer(participant, ParticipantState.ACCEPTED)
            lifecycle.move(session, Status.REQUESTED)
        session.save(update_fields=["status", "ended_at", "updated_at"])
        audit.record(
            actor=actor,
            action="session.time_proposed",
            organization_id=session.organization_id,
            session_id=session.pk,
            proposal_id=proposal.pk,
            scheduled_start=scheduled_start.isoformat(),
            planned_minutes=minutes,
            previous_start=proposal.previous_start.isoformat(),
            previous_minutes=proposal.previous_minutes,
            replaced_proposal_id=current.pk if current is not None else None,
            message=message,
        )
        after_commit_session_event(
            session_id=session.pk,
            event="rescheduled",
            actor_id=actor.pk,
            proposed_start=scheduled_start,
        )
    return proposal


def accept_proposal(*, session_id: int, actor: User) -> Session:
    """The other side agrees to the new time. For the tutor's proposal each student still on
    the session accepts; the session moves once the last one has. Accepting twice is
    harmless."""
    with transaction.atomic():
        session = _locked(actor, session_id)
        proposal = proposals.open_proposal(session)
        if proposal is None:
            if _already_accepted_by(session, actor):
                return session
            raise _nothing_to_answer()
        _check_answerer(session, proposal, actor)
        _refuse_if_passed(session, proposal)
        # The program may have changed since the time was proposed (archived, shortened,
        # spent): the new time is checked again before anyone agrees to it.
        if proposal.by_tutor:
            participant = session.participants.get(user=actor)
            if participant.state == ParticipantState.ACCEPTED:
                return session
            _check_limits_again(
                session,
                students=[actor],
                actor=actor,
                start=proposal.scheduled_start,
                minutes=proposal.planned_minutes,
            )
            check_new_time(
                session, start=proposal.scheduled_start, minutes=proposal.planned_minutes
            )
            _answer(participant, ParticipantState.ACCEPTED)
            audit.record(
                actor=actor,
                action="session.time_accepted",
                organization_id=session.organization_id,
                session_id=session.pk,
                proposal_id=proposal.pk,
            )
            # The last answer moves the session (and says so to everyone on it).
            _settle_status(session, actor=actor)
        else:
            _check_limits_again(
                session,
                students=_students_on(session),
                actor=actor,
                start=proposal.scheduled_start,
                minutes=proposal.planned_minutes,
            )
            check_new_time(
                session, start=proposal.scheduled_start, minutes=proposal.planned_minutes
            )
            audit.record(
                actor=actor,
                action="session.time_accepted",
                organization_id=session.organization_id,
                session_id=session.pk,
                proposal_id=proposal.pk,
            )
            proposals.apply(session, proposal, actor=actor)
    return session


def decline_proposal(*, session_id: int, actor: User, message: str = "") -> Session:
    """The other side keeps the agreed time: the answers and status before the proposal come
    back. One student declining the tutor's new time declines it for the group."""
    with transaction.atomic():
        session = _locked(actor, session_id)
        message = clean_text(message or "", field="Message", max_length=REASON_MAX_CHARS)
        proposal = proposals.open_proposal(session)
        if proposal is None:
            raise _nothing_to_answer()
        _check_answerer(session, proposal, actor)
        proposals.restore(
            session, proposal, state=ProposalState.DECLINED, actor=actor, message=message
        )
        audit.record(
            actor=actor,
            action="session.time_declined",
            organization_id=session.organization_id,
            session_id=session.pk,
            proposal_id=proposal.pk,
            message=message,
        )
        after_commit_session_event(
            session_id=session.pk, event="reschedule_declined", actor_id=actor.pk
        )
    return session


# -- helpers -------------------------------------------------------------------------------


def _check_new_start(start: datetime) -> None:
    if not isinstance(start, datetime) or timezone.is_naive(start):
        raise InvalidInput(
            "Give the new start as a date and time with its time zone.", code="invalid_start"
        )
    now = timezone.now()
    if start <= now:
        raise RuleViolation("Propose a time that is still to come.", code="start_in_past")
    if start > now + timedelta(days=MAX_DAYS_AHEAD):
        raise RuleViolation(
            "Sessions can be booked at most a year ahead.", code="start_too_far_ahead"
        )


def _check_answerer(session: Session, proposal: TimeProposal, actor: User) -> None:
    if proposal.proposed_by_id == actor.pk:
        other = "your students answer it" if proposal.by_tutor else "your tutor answers it"
        raise Conflict(
            f"You proposed this time; {other}. To change it, propose another time.",
            code="invalid_transition",
        )
    if proposal.by_tutor:
        participant = session.participants.filter(user=actor).first()
        if participant is None:
            raise Forbidden("Only the students on this session answer the tutor's new time.")
        if participant.state not in ACTIVE_STATES:
            raise Conflict("You are no longer on this session.", code="invalid_transition")
    elif session.tutor_id != actor.pk:
        raise Forbidden("Only the tutor answers a student's new time.")


def _refuse_if_passed(session: Session, proposal: TimeProposal) -> None:
    now = timezone.now()
    if proposal.scheduled_start <= now:
        raise Conflict(
            "The proposed time has already passed; propose another one.",
            code="proposal_expired",
        )
    _refuse_once_started(session, "move")


def _already_accepted_by(session: Session, actor: User) -> bool:
    latest = TimeProposal.objects.filter(session=session).order_by("-created_at", "-id").first()
    if latest is None or latest.state != ProposalState.ACCEPTED:
        return False
    if latest.by_tutor:
        return (
            session.participants.filter(user=actor, state=ParticipantState.ACCEPTED).exists()
            and latest.proposed_by_id != actor.pk
        )
    return session.tutor_id == actor.pk


def _nothing_to_answer() -> Conflict:
    return Conflict("No new time is waiting for an answer on this session.", code="no_proposal")
