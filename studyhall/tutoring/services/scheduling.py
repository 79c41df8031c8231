"""Creating sessions and answering them: invite, request, accept, decline, cancel, remove.

Booking checks who may book what (tutors approved for the course, students enrolled in it),
the organization's limits (`services.limits`) at request, invitation and acceptance, and at
request and invitation the program that pays for it and its budget left (`programs`). A
new time proposed for a session (`services.rescheduling`) changes what accepting and declining
mean for whoever must answer it; see `services.proposals`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from studyhall.core.text import clean_text
from studyhall.ledger.services import program_account
from studyhall.orgs.models import Course, Enrollment, Membership, Organization, Role
from studyhall.orgs.selectors import hourly_rate_cents, is_approved_tutor, roles_of
from studyhall.tutoring import lifecycle
from studyhall.tutoring.access import access_session, is_org_admin
from studyhall.tutoring.models import (
    Mode,
    Origin,
    Participant,
    ParticipantState,
    Session,
    Status,
)
from studyhall.tutoring.no_shows import suspension_refusal
from studyhall.tutoring.programs import choose_program
from studyhall.tutoring.rules import check_duration, completable_from, completion_deadline
from studyhall.tutoring.services import proposals
from studyhall.tutoring.services.limits import check_booking_limits, lock_people
from studyhall.tutoring.services.notify import after_commit_session_event
from studyhall.tutoring.text import names, when

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
    session can be recorded after the fact: it is marked so, and its students still have to
    accept it before its grace period ends.
    """
    with transaction.atomic():
        organization, roles = _organization(actor, organization_id)
        course, mode, location, planned, notes = _check_booking(
            organization,
            course_id=course_id,
            mode=mode,
            location=location,
            scheduled_start=scheduled_start,
            planned_minutes=planned_minutes,
            notes=notes,
        )
        if tutor_id is None:
            if Role.TUTOR not in roles:
                raise Forbidden("Only tutors can invite students to a session.")
            tutor = actor
            students = _students(organization, student_ids, tutor=actor, actor=actor)
            _check_approved(course, tutor, actor=actor)
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
            _check_approved(course, tutor, actor=actor)
            origin, status, student_state = (
                Origin.REQUEST,
                Status.REQUESTED,
                ParticipantState.ACCEPTED,
            )
        _check_people(
            organization,
            course=course,
            tutor=tutor,
            students=students,
            start=scheduled_start,
            minutes=planned,
            actor=actor,
        )
        return _record(
            organization=organization,
            course=course,
            tutor=tutor,
            students=students,
            actor=actor,
            mode=mode,
            location=location,
            scheduled_start=scheduled_start,
            planned=planned,
            notes=notes,
            origin=origin,
            status=status,
            student_state=student_state,
            event="invited" if origin == Origin.INVITATION else "requested",
        )


def book_for_tutor(
    *,
    actor: User,
    organization_id: int,
    tutor_id: int,
    student_ids: Sequence[int],
    course_id: int,
    mode: str,
    scheduled_start: datetime,
    planned_minutes: int,
    location: str = "",
    notes: str = "",
) -> Session:
    """An org admin books a session for one of the organization's tutors: a walk-in at the
    front desk, or an in-person session recorded after the fact.

    It is the tutor's invitation in all but who made it: the same booking rules and limits
    hold, each student still accepts it (before the grace period ends, when it already took
    place), and only the tutor completes it.
    """
    with transaction.atomic():
        organization, roles = _organization(actor, organization_id)
        if Role.ADMIN not in roles:
            raise Forbidden("Only the organization's admins can book a session for a tutor.")
        course, mode, location, planned, notes = _check_booking(
            organization,
            course_id=course_id,
            mode=mode,
            location=location,
            scheduled_start=scheduled_start,
            planned_minutes=planned_minutes,
            notes=notes,
        )
        tutor = _tutor(organization, tutor_id)
        students = _students(organization, student_ids, tutor=tutor, actor=actor)
        _check_approved(course, tutor, actor=actor)
        _check_people(
            organization,
            course=course,
            tutor=tutor,
            students=students,
            start=scheduled_start,
            minutes=planned,
            actor=actor,
        )
        return _record(
            organization=organization,
            course=course,
            tutor=tutor,
            students=students,
            actor=actor,
            mode=mode,
            location=location,
            scheduled_start=scheduled_start,
            planned=planned,
            notes=notes,
            origin=Origin.INVITATION,
            status=Status.INVITED,
            student_state=ParticipantState.INVITED,
            event="booked",
        )


def _organization(actor: User, organization_id: int) -> tuple[Organization, set[str]]:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None or not (roles := roles_of(actor, organization.pk)):
        raise NotFound("There is no such organization.")
    return organization, set(roles)


def _check_booking(
    organization: Organization,
    *,
    course_id: int,
    mode: str,
    location: str,
    scheduled_start: datetime,
    planned_minutes: object,
    notes: str,
) -> tuple[Course, str, str, int, str]:
    """The course, the place, the length, the start and the notes every booking checks."""
    course = Course.objects.filter(pk=course_id, organization=organization).first()
    if course is None:
        raise InvalidInput(
            "Choose one of your organization's courses.", code="unknown_course", field="course"
        )
    mode, location = _check_place(mode, location)
    planned = check_duration(planned_minutes, what="The planned length")
    _check_start(scheduled_start, organization)
    notes = clean_text(notes or "", field="Notes", max_length=NOTES_MAX_CHARS)
    return course, mode, location, planned, notes


def _check_people(
    organization: Organization,
    *,
    course: Course,
    tutor: User,
    students: Sequence[User],
    start: datetime,
    minutes: int,
    actor: User,
) -> None:
    """Everyone takes the course, nobody's booking is suspended, and the booking fits the
    limits (people locked first)."""
    _check_enrolled(course, students, actor=actor)
    lock_people(organization, [tutor.pk, *(s.pk for s in students)])
    suspended = suspension_refusal(
        organization.pk, tutor_id=tutor.pk, student_ids=[s.pk for s in students], actor=actor
    )
    if suspended is not None:
        raise suspended
    check_booking_limits(
        organization=organization,
        course=course,
        tutor=tutor,
        students=students,
        start=start,
        minutes=minutes,
        actor=actor,
    )


def _record(
    *,
    organization: Organization,
    course: Course,
    tutor: User,
    students: Sequence[User],
    actor: User,
    mode: str,
    location: str,
    scheduled_start: datetime,
    planned: int,
    notes: str,
    origin: Origin,
    status: Status,
    student_state: ParticipantState,
    event: str,
) -> Session:
    """Choose the program that pays (reserving the planned cost), write the booked session and
    its participants, audit it and tell the others."""
    funding = choose_program(
        organization=organization,
        course=course,
        tutor=tutor,
        students=students,
        start=scheduled_start,
        minutes=planned,
        rate_cents=hourly_rate_cents(organization=organization, tutor_id=tutor.pk),
        actor=actor,
        lock=True,
    )
    program_account(program=funding.program)
    session = Session.objects.create(
        organization=organization,
        program=funding.program,
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
        recorded_after_the_fact=scheduled_start < timezone.now(),
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
        recorded_after_the_fact=session.recorded_after_the_fact,
        program_id=funding.program.pk,
        reserved=funding.cost,
        **({"booked_for_tutor_id": tutor.pk} if event == "booked" else {}),
    )
    after_commit_session_event(session_id=session.pk, event=event, actor_id=actor.pk)
    return session


def accept_session(*, session_id: int, actor: User) -> Session:
    """The tutor accepts a request, or an invited student accepts. Accepting twice is harmless."""
    with transaction.atomic():
        session = _locked(actor, session_id)
        _refuse_if_ended(session, "accept")
        _refuse_while_a_new_time_awaits(session, actor)
        if session.tutor_id == actor.pk:
            if session.status != Status.REQUESTED:
                if session.origin != Origin.REQUEST:
                    raise Conflict(
                        "This is your own invitation; your students accept it.",
                        code="invalid_transition",
                    )
                return session
            _refuse_if_suspended(session, tutor_id=actor.pk, student_ids=(), actor=actor)
            _check_limits_again(session, students=_students_on(session), actor=actor)
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
            _refuse_after_the_grace_period(session, actor)
            _refuse_if_suspended(session, tutor_id=None, student_ids=[actor.pk], actor=actor)
            _check_limits_again(session, students=[actor], actor=actor)
            _answer(participant, ParticipantState.ACCEPTED)
            _settle_status(session, actor=actor)
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
            proposal = proposals.open_proposal(session)
            if proposal is not None and proposal.previous_status != Status.REQUESTED:
                # You agreed to this session; what is open is only the student's new time.
                raise Conflict(
                    f"{proposal.proposed_by.display_name} proposed a new time. Decline the new "
                    "time to keep the session as agreed, or cancel the session.",
                    code="proposal_pending",
                )
            lifecycle.move(session, Status.DECLINED)
            session.save(update_fields=["status", "ended_at", "updated_at"])
            proposals.close(session)
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
                _settle_status(session, actor=actor)
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
    """Call a session off before it takes place, with a reason everyone sees: its tutor,
    Support, or an admin of its organization (from the console, say).

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
        if not (
            session.tutor_id == actor.pk or actor.is_support_agent or is_org_admin(actor, session)
        ):
            participant = _own_participation(session, actor)
            # Once it has taken place, a student's cancel would undo the tutor's work.
            _refuse_once_started(session, "cancel")
            if participant.state not in ACTIVE_STATES:
                raise Conflict("You are no longer on this session.", code="invalid_transition")
            others = session.participants.filter(state__in=ACTIVE_STATES).exclude(user=actor)
            if others.exists():
                _answer(participant, ParticipantState.DECLINED)
                _settle_status(session, actor=actor)
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
        _settle_status(session, actor=actor)
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


def _refuse_after_the_grace_period(session: Session, actor: User) -> None:
    """Accepting is agreeing that the session happens (or happened); once logging has closed
    there is nothing left to agree to."""
    deadline = completion_deadline(
        scheduled_end=session.scheduled_end,
        call_ended_at=session.call_ended_at,
        grace_hours=session.organization.grace_hours,
        classroom_closes_at=session.classroom_closes_at,
    )
    if timezone.now() > deadline:
        raise Conflict(
            "This invitation can no longer be accepted: the session's grace period ended "
            f"{when(deadline, actor.zone)}, so it cannot be logged.",
            code="acceptance_closed",
        )


def _refuse_if_suspended(
    session: Session, *, tutor_id: int | None, student_ids: Sequence[int], actor: User
) -> None:
    refusal = suspension_refusal(
        session.organization_id, tutor_id=tutor_id, student_ids=student_ids, actor=actor
    )
    if refusal is not None:
        raise refusal


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
    proposals.close(session)


def _refuse_while_a_new_time_awaits(session: Session, actor: User) -> None:
    """Accepting means agreeing to a time: while a new one awaits the actor's answer, they
    answer that instead (accept or decline the new time)."""
    proposal = proposals.open_proposal(session)
    if proposal is None or not proposals.awaits(proposal, session, actor):
        return
    raise Conflict(
        f"{proposal.proposed_by.display_name} proposed a new time, "
        f"{when(proposal.scheduled_start, actor.zone)}. Accept or decline the new time.",
        code="proposal_pending",
        proposal_id=proposal.pk,
    )


def _students_on(session: Session) -> list[User]:
    """The students still on the session (invited or accepted)."""
    return [
        p.user for p in session.participants.select_related("user").filter(state__in=ACTIVE_STATES)
    ]


def _check_limits_again(
    session: Session,
    *,
    students: Sequence[User],
    actor: User,
    start: datetime | None = None,
    minutes: int | None = None,
) -> None:
    """The limits at acceptance (or at a new time): this session no longer counts against
    itself, and the people are locked after the session, in the fixed order."""
    lock_people(session.organization, [session.tutor_id, *(s.pk for s in students)])
    check_booking_limits(
        organization=session.organization,
        course=session.course,
        tutor=session.tutor,
        students=students,
        start=start or session.scheduled_start,
        minutes=minutes or session.planned_minutes,
        actor=actor,
        exclude_session_id=session.pk,
    )


def _own_participation(session: Session, actor: User) -> Participant:
    participant = session.participants.filter(user=actor).first()
    if participant is None:
        raise Forbidden("You are not a participant of this session.")
    return participant


def _answer(participant: Participant, state: ParticipantState) -> None:
    participant.state = state
    participant.responded_at = timezone.now()
    participant.save(update_fields=["state", "responded_at"])


def _settle_status(session: Session, *, actor: User | None) -> None:
    """Before anyone meets, the status follows the students' answers (see
    `proposals.status_from_answers`). When the tutor proposed a new time and the last student
    who had to answer it accepted (or left), the session moves to the new time."""
    if session.status not in (Status.INVITED, Status.SCHEDULED):
        return
    target = proposals.status_from_answers(session.participants.values_list("state", flat=True))
    if target is None:
        return
    proposal = proposals.open_proposal(session)
    if proposal is not None and proposal.by_tutor and target == Status.SCHEDULED:
        proposals.apply(session, proposal, actor=actor)
        return
    if target != session.status:
        lifecycle.move(session, target)
        session.save(update_fields=["status", "ended_at", "updated_at"])
    if target in lifecycle.TERMINAL:
        proposals.close(session)


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


def _students(
    organization: Organization, student_ids: Sequence[int], *, tutor: User, actor: User
) -> list[User]:
    wanted = list(dict.fromkeys(student_ids))
    if not wanted:
        raise InvalidInput("Invite at least one student.", code="no_participants")
    if len(wanted) > organization.max_group_size:
        raise RuleViolation(
            f"A group session has at most {organization.max_group_size} students.",
            code="group_too_large",
            limit=organization.max_group_size,
        )
    if tutor.pk in wanted:
        if tutor.pk == actor.pk:
            raise InvalidInput("You cannot invite yourself to your own session.")
        raise InvalidInput(
            f"{tutor.display_name} tutors this session; they cannot also be its student.",
            code="tutor_is_student",
            field="students",
        )
    members = {
        m.user_id: m.user
        for m in Membership.objects.select_related("user").filter(
            organization=organization, role=Role.STUDENT, user_id__in=wanted, is_active=True
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
        .filter(organization=organization, role=Role.TUTOR, user_id=tutor_id, is_active=True)
        .first()
    )
    if membership is None:
        raise InvalidInput("Choose a tutor of this organization.", code="unknown_tutor")
    return membership.user


def _check_approved(course: Course, tutor: User, *, actor: User) -> None:
    if is_approved_tutor(tutor_id=tutor.pk, course=course):
        return
    if tutor.pk == actor.pk:
        raise RuleViolation(
            f"You are not approved to tutor {course.code} yet; your program admin approves "
            "tutors for each course.",
            code="tutor_not_approved",
        )
    raise InvalidInput(
        f"{tutor.display_name} does not tutor {course.code}; choose one of its tutors.",
        code="tutor_not_approved",
    )


def _check_enrolled(course: Course, students: Sequence[User], *, actor: User) -> None:
    enrolled = set(
        Enrollment.objects.filter(course=course, student__in=students).values_list(
            "student_id", flat=True
        )
    )
    missing = [s for s in students if s.pk not in enrolled]
    if not missing:
        return
    if [s.pk for s in missing] == [actor.pk]:
        message = (
            f"You are not enrolled in {course.code}; you can book tutors for the courses you take."
        )
    else:
        verb = "is" if len(missing) == 1 else "are"
        message = f"{names(missing)} {verb} not enrolled in {course.code}."
    raise RuleViolation(message, code="not_enrolled", user_ids=[s.pk for s in missing])
