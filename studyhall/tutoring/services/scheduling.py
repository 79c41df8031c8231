"""Creating sessions and answering them: invite, request, accept, decline, cancel, remove."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from studyhall.core.text import clean_text
from studyhall.orgs.models import Course, Membership, Organization, Role
from studyhall.orgs.selectors import roles_of
from studyhall.tutoring import lifecycle
from studyhall.tutoring.access import access_session
from studyhall.tutoring.models import (
    Mode,
    Origin,
    Participant,
    ParticipantState,
    Session,
    Status,
)
from studyhall.tutoring.rules import check_duration, completable_from
from studyhall.tutoring.services.notify import after_commit_session_event

MAX_GROUP_SIZE = 6
MAX_DAYS_AHEAD = 365
NOTES_MAX_CHARS = 2000
REASON_MAX_CHARS = 1000
LOCATION_MAX_CHARS = 200
ACTIVE_STATES = (ParticipantState.INVITED, ParticipantState.ACCEPTED)


def create_session(
    *,
    actor: User,
    organization_id: int,
    course_id: int,
    mode: str,
    scheduled_start: datetime,
    planned_minutes: object,
    location: str = "",
    notes: str = "",
    student_ids: Sequence[int] = (),
    tutor_id: int | None = None,
) -> Session:
    """A tutor invites students (`student_ids`), or a student requests a tutor (`tutor_id`).

    The start may lie up to the organization's grace period in the past, so an in-person
    session can be recorded after the fact; its students still have to accept it.
    """
    with transaction.atomic():
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None or not (roles := roles_of(actor, organization.pk)):
            raise NotFound("There is no such organization.")
        course = Course.objects.filter(pk=course_id, organization=organization).first()
        if course is None:
            raise InvalidInput("Choose one of your organization's courses.", code="unknown_course")
        mode, location = _check_place(mode, location)
        planned = check_duration(planned_minutes, what="The planned length")
        _check_start(scheduled_start, organization)
        notes = clean_text(notes or "", field="Notes", max_length=NOTES_MAX_CHARS)

        if tutor_id is None:
            if Role.TUTOR not in roles:
                raise Forbidden("Only tutors can invite students to a session.")
            tutor = actor
            students = _students(organization, student_ids, tutor=actor)
            origin, status, student_state = (
                Origin.INVITATION,
                Status.INVITED,
                ParticipantState.INVITED,
            )
        else:
            if Role.STUDENT not in roles:
                raise Forbidden("Only students can request a tutor.")
            if student_ids:
                raise InvalidInput("A request is for yourself; leave out other students.")
            tutor = _tutor(organization, tutor_id)
            if tutor.pk == actor.pk:
                raise InvalidInput("You cannot request yourself as your tutor.")
            students = [actor]
            origin, status, student_state = (
                Origin.REQUEST,
                Status.REQUESTED,
                ParticipantState.ACCEPTED,
            )

        session = Session.objects.create(
            organization=organization,
            course=course,
            tutor=tutor,
            mode=mode,
            location=location,
            scheduled_start=scheduled_start,
            planned_minutes=planned,
            notes=notes,
            status=status,
            origin=origin,
            created_by=actor,
        )
        now = timezone.now()
        Participant.objects.bulk_create(
            [
                Participant(
                    session=session,
                    user=student,
                    state=student_state,
                    responded_at=now if student_state == ParticipantState.ACCEPTED else None,
                )
                for student in students
            ]
        )
        audit.record(
            actor=actor,
            action="session.created",
            organization_id=organization.pk,
            session_id=session.pk,
            origin=origin,
            student_ids=[s.pk for s in students],
            scheduled_start=scheduled_start.isoformat(),
            planned_minutes=planned,
            mode=mode,
        )
        after_commit_session_event(
            session_id=session.pk,
            event="invited" if origin == Origin.INVITATION else "requested",
            actor_id=actor.pk,
        )
    return session


def accept_session(*, session_id: int, actor: User) -> Session:
    """The tutor accepts a request, or an invited student accepts. Accepting twice is harmless."""
    with transaction.atomic():
        session = _locked(actor, session_id)
        _refuse_if_ended(session, "accept")
        if session.tutor_id == actor.pk:
            if session.origin != Origin.REQUEST:
                raise Conflict(
                    "This is your own invitation; your students accept it.",
                    code="invalid_transition",
                )
            if session.status != Status.REQUESTED:
                return session
            lifecycle.move(session, Status.SCHEDULED)
            session.save(update_fields=["status", "ended_at", "updated_at"])
        else:
            participant = _own_participation(session, actor)
            if participant.state == ParticipantState.ACCEPTED:
                return session
            if participant.state != ParticipantState.INVITED:
                raise Conflict(
                    f"You cannot accept: you {participant.get_state_display().lower()} "
                    "this session.",
                    code="invalid_transition",
                )
            _answer(participant, ParticipantState.ACCEPTED)
            _settle_status(session)
        audit.record(
            actor=actor,
            action="session.accepted",
            organization_id=session.organization_id,
            session_id=session.pk,
        )
        after_commit_session_event(session_id=session.pk, event="accepted", actor_id=actor.pk)
    return session


def decline_session(*, session_id: int, actor: User, message: str = "") -> Session:
    """The tutor declines a request, or a student declines (or withdraws before the start)."""
    with transaction.atomic():
        session = _locked(actor, session_id)
        _refuse_if_ended(session, "decline")
        message = clean_text(message or "", field="Message", max_length=REASON_MAX_CHARS)
        if session.tutor_id == actor.pk:
            if session.status != Status.REQUESTED:
                raise Conflict(
                    "Only a request can be declined by its tutor; cancel the session instead.",
                    code="invalid_transition",
                )
            lifecycle.move(session, Status.DECLINED)
            session.save(update_fields=["status", "ended_at", "updated_at"])
        else:
            participant = _own_participation(session, actor)
            if participant.state == ParticipantState.DECLINED:
                return session
            if session.status not in lifecycle.PENDING or participant.state not in ACTIVE_STATES:
                raise Conflict("You can no longer decline this session.", code="invalid_transition")
            if participant.state == ParticipantState.ACCEPTED:
                _refuse_once_started(session, "withdraw from")
            _answer(participant, ParticipantState.DECLINED)
            if session.status == Status.REQUESTED:
                # The requester changed their mind: nobody is left to tutor.
                _cancel(session, actor, message or "The student withdrew the request.")
            else:
                _settle_status(session)
        audit.record(
            actor=actor,
            action="session.declined",
            organization_id=session.organization_id,
            session_id=session.pk,
            message=message,
        )
        after_commit_session_event(session_id=session.pk, event="declined", actor_id=actor.pk)
    return session


def cancel_session(*, session_id: int, actor: User, reason: str) -> Session:
    """Call a session off before it takes place, with a reason everyone sees.

    A student in a group session withdraws only themselves; the others' session goes on.
    """
    with transaction.atomic():
        session = _locked(actor, session_id)
        reason = clean_text(reason or "", field="Reason", max_length=REASON_MAX_CHARS)
        if not reason:
            raise InvalidInput(
                "Say why the session is canceled; everyone on it will see the reason.",
                code="reason_required",
            )
        if session.status not in lifecycle.PENDING:
            raise Conflict(
                f"A session that is {session.get_status_display().lower()} cannot be canceled.",
                code="invalid_transition",
            )
        if session.tutor_id != actor.pk and not actor.is_support_agent:
            participant = _own_participation(session, actor)
            # Once it has taken place, a student's cancel would undo the tutor's work.
            _refuse_once_started(session, "cancel")
            if participant.state not in ACTIVE_STATES:
                raise Conflict("You are no longer on this session.", code="invalid_transition")
            others = session.participants.filter(state__in=ACTIVE_STATES).exclude(user=actor)
            if others.exists():
                _answer(participant, ParticipantState.DECLINED)
                _settle_status(session)
                audit.record(
                    actor=actor,
                    action="session.withdrew",
                    organization_id=session.organization_id,
                    session_id=session.pk,
                    reason=reason,
                )
                after_commit_session_event(
                    session_id=session.pk, event="declined", actor_id=actor.pk
                )
                return session
        _cancel(session, actor, reason)
        audit.record(
            actor=actor,
            action="session.canceled",
            organization_id=session.organization_id,
            session_id=session.pk,
            reason=reason,
        )
        after_commit_session_event(session_id=session.pk, event="canceled", actor_id=actor.pk)
    return session


def remove_participant(*, session_id: int, actor: User, user_id: int) -> Session:
    """The tutor takes a student off the session (say, one who never came), so the session can
    be completed for the others."""
    with transaction.atomic():
        session = _locked(actor, session_id)
        if session.tutor_id != actor.pk and not actor.is_support_agent:
            raise Forbidden("Only the session's tutor can remove a participant.")
        _refuse_if_ended(session, "change")
        if session.status == Status.REQUESTED:
            raise Conflict(
                "This is a student's request; decline it instead of removing them.",
                code="invalid_transition",
            )
        participant = (
            session.participants.select_related("user")
            .filter(user_id=user_id if isinstance(user_id, int) else -1)
            .first()
        )
        if participant is None:
            raise NotFound("That person is not on this session.")
        if participant.state == ParticipantState.REMOVED:
            return session
        if participant.state == ParticipantState.DECLINED:
            raise Conflict(
                f"{participant.user} already declined this session.", code="invalid_transition"
            )
        previous = participant.state
        _answer(participant, ParticipantState.REMOVED)
        _settle_status(session)
        audit.record(
            actor=actor,
            action="session.participant_removed",
            organization_id=session.organization_id,
            session_id=session.pk,
            user_id=participant.user_id,
            previous_state=previous,
        )
        after_commit_session_event(
            session_id=session.pk,
            event="removed",
            actor_id=actor.pk,
            only_user_id=participant.user_id,
        )
    return session


# -- helpers -------------------------------------------------------------------------------


def _locked(actor: User, session_id: int) -> Session:
    return access_session(
        actor, session_id, queryset=Session.objects.select_for_update(of=("self",))
    )


def _refuse_if_ended(session: Session, verb: str) -> None:
    if session.status in lifecycle.TERMINAL:
        raise Conflict(
            f"This session is {session.get_status_display().lower()}; you cannot {verb} it now.",
            code="invalid_transition",
        )


def _refuse_once_started(session: Session, verb: str) -> None:
    opens = completable_from(
        scheduled_start=session.scheduled_start, call_started_at=session.call_started_at
    )
    if timezone.now() >= opens:
        raise Conflict(
            f"This session has already started, so you cannot {verb} it now. "
            "Ask your tutor if something is wrong.",
            code="invalid_transition",
        )


def _cancel(session: Session, actor: User, reason: str) -> None:
    lifecycle.move(session, Status.CANCELED)
    session.canceled_by = actor
    session.cancel_reason = reason
    session.save(update_fields=["status", "ended_at", "canceled_by", "cancel_reason", "updated_at"])


def _own_participation(session: Session, actor: User) -> Participant:
    participant = session.participants.filter(user=actor).first()
    if participant is None:
        raise Forbidden("You are not a participant of this session.")
    return participant


def _answer(participant: Participant, state: ParticipantState) -> None:
    participant.state = state
    participant.responded_at = timezone.now()
    participant.save(update_fields=["state", "responded_at"])


def _settle_status(session: Session) -> None:
    """Before anyone meets, the status follows the students' answers: someone still invited →
    Invited; everyone remaining accepted → Scheduled; every student declined → Declined."""
    if session.status not in (Status.INVITED, Status.SCHEDULED):
        return
    states = list(session.participants.values_list("state", flat=True))
    if ParticipantState.INVITED in states:
        target = Status.INVITED
    elif ParticipantState.ACCEPTED in states:
        target = Status.SCHEDULED
    elif ParticipantState.DECLINED in states and ParticipantState.REMOVED not in states:
        target = Status.DECLINED
    else:
        return
    if target != session.status:
        lifecycle.move(session, target)
        session.save(update_fields=["status", "ended_at", "updated_at"])


def _check_place(mode: str, location: str) -> tuple[str, str]:
    if mode not in Mode.values:
        raise InvalidInput("Choose online or in person.", code="invalid_mode")
    location = clean_text(location or "", field="Location", max_length=LOCATION_MAX_CHARS)
    if mode == Mode.IN_PERSON and not location:
        raise InvalidInput(
            "Say where an in-person session takes place (a room or a building).",
            code="location_required",
        )
    return mode, location if mode == Mode.IN_PERSON else ""


def _check_start(start: datetime, organization: Organization) -> None:
    if not isinstance(start, datetime) or timezone.is_naive(start):
        raise InvalidInput(
            "Give the start as a date and time with its time zone.", code="invalid_start"
        )
    now = timezone.now()
    if start < now - timedelta(hours=organization.grace_hours):
        raise RuleViolation(
            f"A session can be recorded at most {organization.grace_hours} hours after it "
            "started; ask Support about older sessions.",
            code="start_too_far_in_past",
        )
    if start > now + timedelta(days=MAX_DAYS_AHEAD):
        raise RuleViolation(
            "Sessions can be booked at most a year ahead.", code="start_too_far_ahead"
        )


def _students(organization: Organization, student_ids: Sequence[int], *, tutor: User) -> list[User]:
    wanted = list(dict.fromkeys(student_ids))
    if not wanted:
        raise InvalidInput("Invite at least one student.", code="no_participants")
    if len(wanted) > MAX_GROUP_SIZE:
        raise RuleViolation(
            f"A group session has at most {MAX_GROUP_SIZE} students.", code="group_too_large"
        )
    if tutor.pk in wanted:
        raise InvalidInput("You cannot invite yourself to your own session.")
    members = {
        m.user_id: m.user
        for m in Membership.objects.select_related("user").filter(
            organization=organization, role=Role.STUDENT, user_id__in=wanted
        )
    }
    unknown = [i for i in wanted if i not in members]
    if unknown:
        raise InvalidInput(
            "Every invited person must be a student of this organization.",
            code="unknown_student",
            user_ids=unknown,
        )
    return [members[i] for i in wanted]


def _tutor(organization: Organization, tutor_id: int) -> User:
    membership = (
        Membership.objects.select_related("user")
        .filter(organization=organization, role=Role.TUTOR, user_id=tutor_id)
        .first()
    )
    if membership is None:
        raise InvalidInput("Choose a tutor of this organization.", code="unknown_tutor")
    return membership.user
