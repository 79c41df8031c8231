"""The students' side of a completed session: "Did this session happen as logged?"

Where the organization asks for confirmations, completing a session deposits the earning and,
in the same transaction, holds all of it (tutor's earnings → tutor's held earnings). It stays
held while any student who came has not answered and the auto-confirm time has not passed.
Then it is settled: what no dispute is about is released at once, and the pay a dispute is
about (the minutes it says did not happen, at the completion's rate) stays held until Support
resolves it — upheld (released), or adjusted by a correction (approved by a second agent),
which releases the hold as it takes the difference back.

Every write locks the session first (then the accounts, through the ledger), like completion
and corrections do, and writes an audit entry. Answers are the students' own: nobody answers
for them, and an answer is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, InvalidInput
from studyhall.core.money import earnings_cents, format_cents
from studyhall.core.text import clean_text
from studyhall.ledger.services import hold_earnings, release_held
from studyhall.tutoring.access import access_session
from studyhall.tutoring.models import (
    Completion,
    Confirmation,
    ConfirmationAnswer,
    Correction,
    DisputeKind,
    DisputeResolution,
    EarningHold,
    HeldMove,
    HeldMoveKind,
    HoldState,
    Participant,
    ParticipantState,
    Session,
)
from studyhall.tutoring.rules import MINUTE_STEP, duration_label
from studyhall.tutoring.services.confirmation_notices import (
    after_commit_ask_students,
    after_commit_tell_tutor,
)

REASON_MAX_CHARS = 2000


# -- at completion ----------------------------------------------------------------------------


def hold_for_confirmation(
    *,
    session: Session,
    participants: list[Participant],
    minutes: int,
    amount_cents: int,
    actor: User,
    now: datetime,
) -> EarningHold | None:
    """Called by `complete_session` inside its transaction, right after the deposit: hold the
    earning and ask each student who came. Nothing when the organization does not ask."""
    organization = session.organization
    students = [p.user_id for p in participants if p.state == ParticipantState.ACCEPTED]
    if not organization.confirmations_required or not students:
        return None
    transfer = hold_earnings(
        organization=organization,
        tutor_id=session.tutor_id,
        session_id=session.pk,
        amount_cents=amount_cents,
        idempotency_key=f"hold:session:{session.pk}",
        description=f"{session.course.code} session held until the students confirm it",
        created_by=actor,
    )
    HeldMove.objects.create(
        session=session,
        kind=HeldMoveKind.HOLD,
        minutes=-minutes,
        amount_cents=amount_cents,
        transfer=transfer,
    )
    hold = EarningHold.objects.create(
        session=session, confirm_by=now + timedelta(hours=organization.auto_confirm_hours)
    )
    Confirmation.objects.bulk_create(
        [Confirmation(session=session, student_id=uid) for uid in sorted(students)]
    )
    after_commit_ask_students(session_id=session.pk)
    return hold


# -- the students' answers ------------------------------------------------------------------


def confirm_session(*, session_id: int, actor: User) -> Confirmation:
    """The student says the session happened as logged. Repeating it changes nothing."""
    with transaction.atomic():
        session, hold, mine = _answering(session_id, actor)
        if mine.answer == ConfirmationAnswer.CONFIRMED:
            return mine
        _still_open(hold, mine)
        now = timezone.now()
        mine.answer = ConfirmationAnswer.CONFIRMED
        mine.answered_at = now
        mine.save(update_fields=["answer", "answered_at"])
        audit.record(
            actor=actor,
            action="session.confirmed",
            organization_id=session.organization_id,
            session_id=session.pk,
            confirmation_id=mine.pk,
        )
        _settle_if_answered(session, hold, actor=actor, now=now)
    return mine


def dispute_session(
    *,
    session_id: int,
    actor: User,
    kind: str,
    shorter_by_minutes: int | None,
    reason: str,
) -> Confirmation:
    """The student says it did not happen, or was shorter by `shorter_by_minutes`."""
    if kind not in DisputeKind.values:
        raise InvalidInput(
            "Say what was wrong: the session didn't happen, or it was shorter.",
            code="invalid_dispute_kind",
            field="kind",
        )
    text = clean_text(reason or "", field="Reason", max_length=REASON_MAX_CHARS)
    if not text:
        raise InvalidInput(
            "Say what happened; Support reads it next to the tutor's log.",
            code="reason_required",
            field="reason",
        )
    with transaction.atomic():
        session, hold, mine = _answering(session_id, actor)
        _still_open(hold, mine)
        logged = _current_minutes(session)
        shorter = 0
        if kind == DisputeKind.SHORTER:
            shorter = _check_shorter_by(shorter_by_minutes, logged)
        now = timezone.now()
        mine.answer = ConfirmationAnswer.DISPUTED
        mine.answered_at = now
        mine.dispute_kind = kind
        mine.shorter_by_minutes = shorter
        mine.reason = text
        mine.save(
            update_fields=["answer", "answered_at", "dispute_kind", "shorter_by_minutes", "reason"]
        )
        audit.record(
            actor=actor,
            action="session.disputed",
            organization_id=session.organization_id,
            session_id=session.pk,
            confirmation_id=mine.pk,
            dispute_kind=kind,
            shorter_by_minutes=shorter,
            logged_minutes=logged,
            reason=text,
        )
        after_commit_tell_tutor(session_id=session.pk, event="disputed")
        _settle_if_answered(session, hold, actor=actor, now=now)
    return mine


def _check_shorter_by(value: object, logged: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value <= 0
        or value % MINUTE_STEP
        or value >= logged
    ):
        raise InvalidInput(
            f"Say how many minutes shorter it was: 5, 10, … up to {logged - MINUTE_STEP} "
            f"(the session is logged as {duration_label(logged)}; if it didn't happen at all, "
            "say so instead).",
            code="invalid_shorter_by",
            field="shorter_by_minutes",
        )
    return value


def _lock(session_id: int, actor: User) -> Session:
    access_session(actor, session_id)
    return access_session(
        actor, session_id, queryset=Session.objects.select_for_update(of=("self",))
    )


def _answering(session_id: int, actor: User) -> tuple[Session, EarningHold, Confirmation]:
    session = _lock(session_id, actor)
    hold = EarningHold.objects.filter(session=session).first()
    if hold is None:
        raise Conflict(
            "This session is not waiting for anyone's confirmation.", code="no_confirmation"
        )
    mine = Confirmation.objects.filter(session=session, student=actor).first()
    if mine is None:
        raise Forbidden(
            "Only the students who came to the session confirm it.",
            code="not_a_student_who_came",
        )
    return session, hold, mine


def _still_open(hold: EarningHold, mine: Confirmation) -> None:
    if mine.answer != ConfirmationAnswer.PENDING:
        raise Conflict(
            f"You already answered: {ConfirmationAnswer(mine.answer).label.lower()}.",
            code="already_answered",
        )
    if hold.state != HoldState.PENDING:
        raise Conflict(
            "This session was already settled; write to Support if something is wrong.",
            code="confirmation_closed",
        )


# -- settling ---------------------------------------------------------------------------------


def _settle_if_answered(session: Session, hold: EarningHold, *, actor: User, now: datetime) -> None:
    if not Confirmation.objects.filter(session=session, answer=ConfirmationAnswer.PENDING).exists():
        _settle(session, hold, actor=actor, now=now)


def auto_confirm_due(*, now: datetime | None = None) -> list[int]:
    """The periodic job: settle every pending session whose auto-confirm time has passed,
    silence counting as confirmation. Safe to run twice (the state is re-checked under the
    session's lock). Returns the sessions settled."""
    now = now or timezone.now()
    due = list(
        EarningHold.objects.filter(state=HoldState.PENDING, confirm_by__lte=now)
        .order_by("confirm_by", "id")
        .values_list("session_id", flat=True)
    )
    settled = []
    for session_id in due:
        with transaction.atomic():
            session = Session.objects.select_for_update(of=("self",)).get(pk=session_id)
            hold = EarningHold.objects.get(session=session)
            if hold.state != HoldState.PENDING:
                continue
            silent = Confirmation.objects.filter(session=session, answer=ConfirmationAnswer.PENDING)
            student_ids = sorted(silent.values_list("student_id", flat=True))
            silent.update(answer=ConfirmationAnswer.AUTO_CONFIRMED, answered_at=now)
            audit.record(
                actor=None,
                action="session.auto_confirmed",
                organization_id=session.organization_id,
                session_id=session.pk,
                student_ids=student_ids,
            )
            _settle(session, hold, actor=None, now=now)
            settled.append(session_id)
    return settled


def held_cents(session: Session) -> int:
    """What the session still has in its tutor's held earnings."""
    moves = HeldMove.objects.filter(session=session)
    held = moves.filter(kind=HeldMoveKind.HOLD).aggregate(t=Sum("amount_cents"))["t"] or 0
    released = moves.exclude(kind=HeldMoveKind.HOLD).aggregate(t=Sum("amount_cents"))["t"] or 0
    return int(held) - int(released)


def _held_minutes(session: Session) -> int:
    total = HeldMove.objects.filter(session=session).aggregate(t=Sum("minutes"))["t"] or 0
    return -int(total)


def _current_minutes(session: Session) -> int:
    latest = Correction.objects.filter(session=session).order_by("-created_at", "-id").first()
    if latest is not None:
        return latest.minutes_after
    return Completion.objects.values_list("minutes", flat=True).get(session=session)


@dataclass(frozen=True)
class Disputed:
    minutes: int
    cents: int


def disputed_amount(session: Session, confirmations: QuerySet[Confirmation]) -> Disputed:
    """The pay the disputes are about, at the completion's rate: the most minutes any student
    says did not happen (all of them, for "it didn't happen")."""
    completion = Completion.objects.get(session=session)
    current = _current_minutes(session)
    most = 0
    for c in confirmations.filter(answer=ConfirmationAnswer.DISPUTED):
        said = current if c.dispute_kind == DisputeKind.DID_NOT_HAPPEN else c.shorter_by_minutes
        most = max(most, min(said, current))
    rate = completion.hourly_rate_cents
    cents = earnings_cents(hourly_rate_cents=rate, minutes=current) - earnings_cents(
        hourly_rate_cents=rate, minutes=current - most
    )
    return Disputed(minutes=most, cents=cents)


def _settle(session: Session, hold: EarningHold, *, actor: User | None, now: datetime) -> None:
    disputed = disputed_amount(session, Confirmation.objects.filter(session=session))
    held = held_cents(session)
    keep = min(disputed.cents, held)
    held_minutes = _held_minutes(session)
    keep_minutes = min(disputed.minutes, held_minutes) if keep else 0
    if held - keep > 0:
        _release(
            session,
            kind=HeldMoveKind.CONFIRMED,
            amount=held - keep,
            minutes=held_minutes - keep_minutes,
            actor=actor,
            what="confirmed" if not keep else "the part no one disputes",
        )
    hold.state = HoldState.DISPUTED if keep else HoldState.RELEASED
    hold.disputed_minutes = keep_minutes
    hold.disputed_cents = keep
    hold.settled_at = now
    hold.save(update_fields=["state", "disputed_minutes", "disputed_cents", "settled_at"])
    audit.record(
        actor=actor,
        action="session.earning_settled",
        organization_id=session.organization_id,
        session_id=session.pk,
        released_cents=held - keep,
        held_for_dispute_cents=keep,
        disputed_minutes=keep_minutes,
        currency=session.organization.currency,
    )


def _release(
    session: Session,
    *,
    kind: HeldMoveKind,
    amount: int,
    minutes: int,
    actor: User | None,
    what: str,
) -> HeldMove:
    organization = session.organization
    number = HeldMove.objects.filter(session=session).count() + 1
    transfer = release_held(
        organization=organization,
        tutor_id=session.tutor_id,
        session_id=session.pk,
        amount_cents=amount,
        idempotency_key=f"release:session:{session.pk}:{number}",
        description=(
            f"{session.course.code} session: {format_cents(amount, organization.currency)} "
            f"released, {what}"
        )[:300],
        created_by=actor,
    )
    return HeldMove.objects.create(
        session=session, kind=kind, minutes=minutes, amount_cents=amount, transfer=transfer
    )


# -- Support's decision -----------------------------------------------------------------------


def uphold_dispute(*, session_id: int, actor: User, note: str = "") -> EarningHold:
    """Support sides with the tutor's log: the disputed pay is released."""
    if not actor.is_support_agent:
        raise Forbidden("Only Studyhall support agents resolve disputes.", code="forbidden")
    text = clean_text(note or "", field="Note", max_length=REASON_MAX_CHARS)
    with transaction.atomic():
        session = _lock(session_id, actor)
        hold = EarningHold.objects.filter(session=session).first()
        if hold is None or hold.state != HoldState.DISPUTED:
            raise Conflict("This session has no open dispute.", code="no_open_dispute")
        _resolve(
            session,
            hold,
            actor=actor,
            resolution=DisputeResolution.UPHELD,
            kind=HeldMoveKind.DISPUTE_UPHELD,
            note=text,
        )
    return hold


def after_correction(*, session: Session, actor: User, correction: Correction) -> None:
    """A correction of a session held for a dispute is Support's adjustment of it: the
    correction took back what it decided, and the held pay is released (called by the
    corrections service, under the session's lock)."""
    hold = EarningHold.objects.filter(session=session).first()
    if hold is None or hold.state != HoldState.DISPUTED:
        return
    _resolve(
        session,
        hold,
        actor=actor,
        resolution=DisputeResolution.ADJUSTED,
        kind=HeldMoveKind.DISPUTE_ADJUSTED,
        note=correction.reason,
    )


def _resolve(
    session: Session,
    hold: EarningHold,
    *,
    actor: User,
    resolution: DisputeResolution,
    kind: HeldMoveKind,
    note: str,
) -> None:
    held = held_cents(session)
    if held > 0:
        _release(
            session,
            kind=kind,
            amount=held,
            minutes=_held_minutes(session),
            actor=actor,
            what="dispute resolved",
        )
    now = timezone.now()
    hold.state = HoldState.RELEASED
    hold.resolution = resolution
    hold.resolved_by = actor
    hold.resolved_at = now
    hold.resolution_note = note
    hold.save(
        update_fields=["state", "resolution", "resolved_by", "resolved_at", "resolution_note"]
    )
    audit.record(
        actor=actor,
        action=f"session.dispute_{resolution}",
        organization_id=session.organization_id,
        session_id=session.pk,
        released_cents=held,
        currency=session.organization.currency,
        note=note,
    )
    after_commit_tell_tutor(session_id=session.pk, event=f"dispute_{resolution}")
