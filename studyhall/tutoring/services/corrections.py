"""Correcting a completed session's pay after the fact: voiding it, or changing its minutes.

History is never edited. The completion and its earning stay exactly as the tutor logged them;
each correction is a new row with a new transfer for the difference (a reversal back to the
budget the earning drew on, its program's, or an adjustment either way). If the earning was
already paid out, the difference simply lands on the tutor's balance — which may go negative —
and the next weekly payout nets it.

Only support agents call these; Support's two-agent approval flow is built on top of them.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, InvalidInput, RuleViolation
from studyhall.core.money import earnings_cents, format_cents
from studyhall.core.text import clean_text
from studyhall.ledger.models import TransferKind
from studyhall.ledger.services import funding_account, post_transfer, tutor_account
from studyhall.tutoring.access import access_session
from studyhall.tutoring.models import Completion, Correction, CorrectionKind, Session
from studyhall.tutoring.rules import check_duration, duration_label
from studyhall.tutoring.services.confirmations import after_correction

REASON_MAX_CHARS = 2000
IDEMPOTENCY_KEY_MAX = 128


def void_completion(
    *, session_id: int, actor: User, reason: str, idempotency_key: str
) -> Correction:
    """Take back everything the session paid: it nets to zero from now on."""
    return _correct(
        session_id=session_id,
        actor=actor,
        kind=CorrectionKind.VOID,
        minutes=None,
        reason=reason,
        idempotency_key=idempotency_key,
    )


def adjust_completion_minutes(
    *, session_id: int, actor: User, minutes: int, reason: str, idempotency_key: str
) -> Correction:
    """Pay the session as if `minutes` had been logged, at the rate it was paid at."""
    return _correct(
        session_id=session_id,
        actor=actor,
        kind=CorrectionKind.ADJUST_MINUTES,
        minutes=minutes,
        reason=reason,
        idempotency_key=idempotency_key,
    )


def effective_minutes(completion: Completion, corrections: list[Correction]) -> int:
    """What the session pays for now: the last correction's minutes, else the logged ones."""
    return corrections[-1].minutes_after if corrections else completion.minutes


def _correct(
    *,
    session_id: int,
    actor: User,
    kind: CorrectionKind,
    minutes: int | None,
    reason: str,
    idempotency_key: str,
) -> Correction:
    if not actor.is_support_agent:
        raise Forbidden("Only Studyhall support agents can correct a completed session.")
    key = _clean_key(idempotency_key)
    cleaned_reason = clean_text(reason or "", field="Reason", max_length=REASON_MAX_CHARS)
    if not cleaned_reason:
        raise InvalidInput(
            "Give the reason for the correction; the tutor sees it.", code="reason_required"
        )
    new_minutes = 0 if kind == CorrectionKind.VOID else check_duration(minutes)
    try:
        with transaction.atomic():
            return _apply(
                session_id=session_id,
                actor=actor,
                kind=kind,
                new_minutes=new_minutes,
                reason=cleaned_reason,
                key=key,
            )
    except IntegrityError:
        # Two requests with one key raced past the lookup; the constraint kept one.
        earlier = Correction.objects.filter(created_by=actor, idempotency_key=key).first()
        if earlier is None:
            raise
        return _replay(earlier, session_id=session_id, kind=kind, minutes=new_minutes)


def _apply(
    *,
    session_id: int,
    actor: User,
    kind: CorrectionKind,
    new_minutes: int,
    reason: str,
    key: str,
) -> Correction:
    access_session(actor, session_id)
    session = access_session(
        actor, session_id, queryset=Session.objects.select_for_update(of=("self",))
    )
    earlier = Correction.objects.filter(created_by=actor, idempotency_key=key).first()
    if earlier is not None:
        return _replay(earlier, session_id=session.pk, kind=kind, minutes=new_minutes)
    completion = Completion.objects.filter(session=session).first()
    if completion is None:
        raise Conflict(
            "This session has not been completed, so there is no pay to correct.",
            code="not_completed",
        )
    corrections = list(Correction.objects.filter(session=session).order_by("created_at", "id"))
    current = effective_minutes(completion, corrections)
    if corrections and corrections[-1].kind == CorrectionKind.VOID:
        raise Conflict("This session's completion was already voided.", code="already_voided")
    if new_minutes == current:
        raise RuleViolation(
            f"The session is already paid for {duration_label(current)}; nothing to change.",
            code="no_change",
        )
    rate = completion.hourly_rate_cents
    before = earnings_cents(hourly_rate_cents=rate, minutes=current)
    after = earnings_cents(hourly_rate_cents=rate, minutes=new_minutes)
    organization = session.organization
    tutor = tutor_account(organization=organization, tutor_id=session.tutor_id)
    # The budget the earning drew on (the session's program): the difference moves against it.
    budget = funding_account(earning=completion.earning)
    difference = after - before
    money = format_cents(abs(difference), organization.currency)
    if kind == CorrectionKind.VOID:
        transfer_kind = TransferKind.REVERSAL
        description = (
            f"{session.course.code} session voided: {duration_label(current)} at "
            f"{format_cents(rate, organization.currency)}/h taken back"
        )
    else:
        transfer_kind = TransferKind.ADJUSTMENT
        description = (
            f"{session.course.code} session changed from {duration_label(current)} to "
            f"{duration_label(new_minutes)} at {format_cents(rate, organization.currency)}/h "
            f"({'+' if difference > 0 else '−'}{money})"
        )
    transfer = post_transfer(
        kind=transfer_kind,
        idempotency_key=f"correction:session:{session.pk}:{len(corrections) + 1}",
        organization=organization,
        debit=budget if difference > 0 else tutor,
        credit=tutor if difference > 0 else budget,
        amount_cents=abs(difference),
        description=description[:300],
        created_by=actor,
        session_id=session.pk,
    )
    correction = Correction.objects.create(
        session=session,
        kind=kind,
        minutes_before=current,
        minutes_after=new_minutes,
        hourly_rate_cents=rate,
        amount_before_cents=before,
        amount_after_cents=after,
        transfer=transfer,
        reason=reason,
        created_by=actor,
        idempotency_key=key,
    )
    audit.record(
        actor=actor,
        action="session.completion_voided"
        if kind == CorrectionKind.VOID
        else "session.completion_adjusted",
        organization_id=organization.pk,
        session_id=session.pk,
        correction_id=correction.pk,
        minutes_before=current,
        minutes_after=new_minutes,
        hourly_rate_cents=rate,
        amount_before_cents=before,
        amount_after_cents=after,
        difference_cents=difference,
        currency=organization.currency,
        transfer_id=transfer.pk,
        already_paid_out=hasattr(completion.earning, "payout_item"),
        reason=reason,
    )
    # A correction of a session held for a dispute is how Support adjusts it.
    after_correction(session=session, actor=actor, correction=correction)
    return correction


def _replay(earlier: Correction, *, session_id: int, kind: str, minutes: int) -> Correction:
    if (earlier.session_id, earlier.kind, earlier.minutes_after) != (session_id, kind, minutes):
        raise Conflict(
            "This idempotency key was already used for a different correction; send a new one.",
            code="idempotency_key_reused",
        )
    return earlier


def _clean_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise InvalidInput(
            f"A correction needs an idempotency key: printable text of at most "
            f"{IDEMPOTENCY_KEY_MAX} characters (a UUID works well).",
            code="invalid_idempotency_key",
        )
    return key
