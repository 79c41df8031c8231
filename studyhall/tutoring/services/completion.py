"""Completing a session: the tutor logs time and a recap, and is paid — atomically, once."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, InvalidInput
from studyhall.core.money import earnings_cents, format_cents
from studyhall.core.queries import INT_KEY, KeyedRead
from studyhall.core.text import clean_text
from studyhall.ledger.services import (
    deposit_earning,
    program_account_id_expression,
    tutor_account_id_expression,
)
from studyhall.orgs.models import Program
from studyhall.orgs.selectors import hourly_rate_expression
from studyhall.tutoring import lifecycle
from studyhall.tutoring.access import access_session, session_read
from studyhall.tutoring.call_presence import call_presence
from studyhall.tutoring.eligibility import completion_refusal
from studyhall.tutoring.models import (
    Completion,
    NoShowRole,
    Participant,
    ParticipantState,
    ProposalState,
    Session,
    Status,
    TimeProposal,
)
from studyhall.tutoring.permissions import session_permissions
from studyhall.tutoring.programs import budget_refusal, choose_program, cost, usage_of
from studyhall.tutoring.recaps import check_recap_quality
from studyhall.tutoring.rules import (
    check_duration,
    check_recap,
    duration_label,
    is_overlogged,
    measurement_warning,
)
from studyhall.tutoring.services.confirmations import hold_for_confirmation
from studyhall.tutoring.services.consequences import count_no_show
from studyhall.tutoring.services.notify import after_commit_send_recap
from studyhall.tutoring.text import when

IDEMPOTENCY_KEY_MAX = 128
REASON_MAX_CHARS = 2000


@dataclass(frozen=True)
class CompletionResult:
    completion: Completion
    # True when this call repeated an earlier one with the same idempotency key.
    replayed: bool
    # A fresh completion's session as written (organization, course, tutor and the
    # completion's earning loaded) and its participants with their users, so that a response
    # can be built without reading them again. Empty for a replay.
    participants: list[Participant] = field(default_factory=list)
    # Whether the session had an open new-time proposal when it was locked (the response
    # reads it only then).
    open_proposal: bool = False


def complete_session(
    *,
    session_id: int,
    actor: User,
    minutes: int | None,
    recap: Mapping[str, object],
    idempotency_key: str | None = None,
    on_behalf_reason: str | None = None,
    ending_call: bool = False,
    no_show_user_ids: Collection[int] = (),
    confirm_time: bool = False,
) -> CompletionResult:
    """Complete the session for its tutor and deposit the earnings, all or nothing.

    `on_behalf_reason` is how a support agent logs a session for the tutor (the grace period
    does not bind them). `ending_call` is "Log time & leave call": the tutor completes from
    inside the online call, which then ends for everyone still in it. `no_show_user_ids` are
    accepted students who never came: they are taken off the session as part of the same
    completion (and get no recap), so a refusal leaves them on it.

    For an online session the tutor logs a time well above what the classroom measured with
    them and a student together, or any time when nothing was measured, only with
    `confirm_time`: otherwise the refusal (`confirm_over_measured`, `confirm_unmeasured`)
    names the measured time and nothing is written. Confirmed, the completion is flagged for
    review. An agent's reason on the tutor's behalf stands in for the confirmation.
    """
    key = _clean_idempotency_key(idempotency_key)
    try:
        with transaction.atomic():
            return _complete(
                session_id=session_id,
                actor=actor,
                minutes=minutes,
                recap=recap,
                key=key,
                on_behalf_reason=on_behalf_reason,
                ending_call=ending_call,
                no_show_user_ids=no_show_user_ids,
                confirm_time=confirm_time,
            )
    except IntegrityError:
        # A concurrent request won the race between our checks and our insert (possible only
        # where the session lock is not enforced); the constraints refused the duplicate.
        existing = Completion.objects.filter(session_id=session_id).first()
        if existing is None:
            raise
        if key is not None and existing.idempotency_key == key:
            return CompletionResult(existing, replayed=True)
        raise Conflict(
            "This session has already been completed.", code="already_completed"
        ) from None


def _complete(
    *,
    session_id: int,
    actor: User,
    minutes: int | None,
    recap: Mapping[str, object],
    key: str | None,
    on_behalf_reason: str | None,
    ending_call: bool,
    no_show_user_ids: Collection[int],
    confirm_time: bool,
) -> CompletionResult:
    # One read takes the lock: the session (with what the checks and the response need) and
    # the tutor's rate.
    session = access_session(actor, session_id, read=_LOCKED)
    reason = _check_actor(actor, session, on_behalf_reason)

    if key is not None:
        # Read after the lock, not folded into it: on PostgreSQL a subquery in the locking
        # statement would see the snapshot from before it waited, and miss the completion
        # that the request it waited for has just committed under this key.
        earlier = Completion.objects.filter(completed_by=actor, idempotency_key=key).first()
        if earlier is not None:
            if earlier.session_id != session.pk:
                raise Conflict(
                    "This Idempotency-Key was already used for another session; send a new one.",
                    code="idempotency_key_reused",
                )
            return CompletionResult(earlier, replayed=True)

    now = timezone.now()
    participants = _PARTICIPANTS.all(session.pk)
    for participant in participants:
        Participant.session.field.set_cached_value(participant, session)
    no_shows = _mark_no_shows(participants, no_show_user_ids)
    refusal = completion_refusal(
        session=session, participants=participants, actor=actor, now=now, ending_call=ending_call
    )
    if refusal is not None:
        raise refusal
    minutes = check_duration(minutes)
    checked_recap = check_recap(recap, min_chars=session.organization.min_recap_chars)
    recap_flag = check_recap_quality(
        checked_recap,
        tutor_id=session.tutor_id,
        now=now,
        mode=session.organization.recap_check,
        threshold_percent=session.organization.recap_similarity_percent,
    )

    measured = (
        call_presence().measured_seconds(
            session.pk,
            tutor_id=session.tutor_id,
            student_ids={p.user_id for p in participants if p.state == ParticipantState.ACCEPTED},
        )
        if session.is_online
        else None
    )
    # What the tutor must confirm first (an agent's reason already says why it is logged).
    warning = (
        measurement_warning(minutes=minutes, measured_seconds=measured)
        if session.is_online and reason is None
        else None
    )
    if warning is not None and not confirm_time:
        raise warning
    overlogged = is_overlogged(minutes=minutes, measured_seconds=measured)

    for participant in no_shows:
        participant.save(update_fields=["state", "no_show", "responded_at"])

    organization = session.organization
    rate = int(session.__dict__["rate_cents"])
    amount = earnings_cents(hourly_rate_cents=rate, minutes=minutes)
    program, program_account_id = _funding_program(
        session, participants=participants, minutes=minutes, rate_cents=rate, actor=actor
    )
    # The tutor's balance is added last (`deposit.settle()` below): its row lock is what
    # every other completion of this tutor waits for, until we commit.
    lifecycle.move(session, Status.COMPLETED)
    session.save(update_fields=["status", "ended_at", "updated_at", "program"])
    after_commit_send_recap(session_id=session.pk)
    for participant in no_shows:
        count_no_show(
            organization=organization,
            user_id=participant.user_id,
            role=NoShowRole.STUDENT,
            actor=actor,
            now=now,
        )
    deposit = deposit_earning(
        program=program,
        program_account_id=program_account_id,
        tutor_account_id=session.__dict__["tutor_account_id"],
        organization=organization,
        tutor_id=session.tutor_id,
        session_id=session.pk,
        amount_cents=amount,
        description=(
            f"{session.course.code} session {when(session.scheduled_start, organization.zone)}"
            f" · {duration_label(minutes)} at {format_cents(rate, organization.currency)}/h"
        ),
        created_by=actor,
        settle=False,
    )
    earning = deposit.transfer
    completion = Completion.objects.create(
        session=session,
        minutes=minutes,
        hourly_rate_cents=rate,
        earning=earning,
        completed_by=actor,
        on_behalf_reason=reason or "",
        idempotency_key=key,
        measured_seconds=None if measured is None else int(measured),
        overlogged=overlogged,
        recap_flag=recap_flag,
        **checked_recap.answers(),
    )
    # Where the organization asks its students first, the earning waits, held, for them: the
    # hold moves it out of the tutor's balance, so the balance must have it first.
    if organization.confirmations_required:
        deposit.settle()
    hold_for_confirmation(
        session=session,
        participants=participants,
        minutes=minutes,
        amount_cents=amount,
        actor=actor,
        now=now,
    )
    audit.record(
        actor=actor,
        action="session.completed" if reason is None else "session.completed_by_support",
        organization_id=organization.pk,
        session_id=session.pk,
        minutes=minutes,
        hourly_rate_cents=rate,
        earnings_cents=amount,
        currency=organization.currency,
        transfer_id=earning.pk,
        recap_characters=checked_recap.counted_chars,
        on_behalf_of=session.tutor_id if reason is not None else None,
        reason=reason,
        ended_call=ending_call,
        measured_seconds=None if measured is None else int(measured),
        overlogged=overlogged,
        confirmed=warning.code if warning is not None else None,
        no_show_user_ids=sorted(p.user_id for p in no_shows),
        program_id=program.pk,
    )
    deposit.settle()
    session.completion = completion
    return CompletionResult(
        completion,
        replayed=False,
        participants=participants,
        open_proposal=bool(session.__dict__["open_proposal"]),
    )


def _lock_query() -> QuerySet[Session]:
    """The session with its program, the tutor's rate, the program's budget account, the
    tutor's earnings account and whether a new time is open. An account's id never changes
    once it exists (a snapshot from before the lock waited is still right, and a missing one
    is looked up or created again); an open proposal only starts before the session does, so
    none can open while it is completed.

    Compiled once per process (`_LOCKED`): compiling its joins and four subqueries was a
    fifth of a completion's Python time."""
    open_proposal = TimeProposal.objects.filter(session=OuterRef("pk"), state=ProposalState.OPEN)
    return (
        Session.objects.select_for_update(of=("self",))
        .select_related("program")
        .annotate(
            rate_cents=hourly_rate_expression(),
            program_account_id=program_account_id_expression(program_field="program_id"),
            tutor_account_id=tutor_account_id_expression(),
            open_proposal=Exists(open_proposal),
        )
    )


_LOCKED = session_read(_lock_query())
_PARTICIPANTS = KeyedRead(
    lambda session_id: Participant.objects.select_related("user").filter(session_id=session_id),
    placeholder=INT_KEY,
)


def _funding_program(
    session: Session,
    *,
    participants: list[Participant],
    minutes: int,
    rate_cents: int,
    actor: User,
) -> tuple[Program, int | None]:
    """The program that pays: the one booked with the session (its reservation covers the
    planned length; logged time beyond it must fit what the program has left), or for a
    session booked before programs existed, the program that covers it now. With the id of
    its budget account where it was read with it."""
    program = session.program
    if program is None:
        students = [p.user for p in participants if p.state == ParticipantState.ACCEPTED]
        funding = choose_program(
            organization=session.organization,
            course=session.course,
            tutor=session.tutor,
            students=students,
            start=session.scheduled_start,
            minutes=minutes,
            rate_cents=rate_cents,
            actor=actor,
            lock=False,
            exclude_session_id=session.pk,
        )
        session.program = funding.program
        return funding.program, getattr(funding.program, "budget_account_id", None)
    account_id: int | None = session.__dict__["program_account_id"]
    if program.budget_amount is None:
        return program, account_id
    usage = usage_of([program], exclude_session_id=session.pk)[program.pk]
    needed = cost(program, minutes=minutes, rate_cents=rate_cents)
    left = usage.left
    if left is not None and needed > left:
        raise budget_refusal(usage, needed=needed, minutes=minutes)
    return program, account_id


def _mark_no_shows(participants: list[Participant], user_ids: Collection[int]) -> list[Participant]:
    """Take the named accepted students off the session in memory (saved only once the
    completion passes every check)."""
    wanted = set(user_ids)
    if not wanted:
        return []
    accepted = {p.user_id: p for p in participants if p.state == ParticipantState.ACCEPTED}
    unknown = wanted - accepted.keys()
    if unknown or not all(isinstance(uid, int) and not isinstance(uid, bool) for uid in wanted):
        raise InvalidInput(
            "Only students who accepted the session can be marked as not having come.",
            code="invalid_no_show",
            user_ids=sorted(uid for uid in unknown if isinstance(uid, int)),
        )
    now = timezone.now()
    for uid in wanted:
        participant = accepted[uid]
        participant.state = ParticipantState.REMOVED
        participant.no_show = True
        participant.responded_at = now
    return [accepted[uid] for uid in sorted(wanted)]


def _clean_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key:
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise InvalidInput(
            f"The Idempotency-Key must be printable text of at most {IDEMPOTENCY_KEY_MAX} "
            "characters (a UUID works well).",
            code="invalid_idempotency_key",
        )
    return key


def _check_actor(actor: User, session: Session, on_behalf_reason: str | None) -> str | None:
    """Rule 1: only the tutor, or a support agent on the tutor's behalf with a reason.
    Returns the agent's reason, or None for the tutor."""
    may = session_permissions(actor, session)
    if (forbidden := may.completion_refusal()) is not None:
        raise forbidden
    if may.is_tutor:
        return None
    reason = clean_text(on_behalf_reason or "", field="Reason", max_length=REASON_MAX_CHARS)
    if not reason:
        raise InvalidInput(
            "Give the reason you are logging this session on the tutor's behalf.",
            code="reason_required",
        )
    return reason
