"""Logging a session after its grace period: the tutor asks, a support agent approves (the
session is completed on the tutor's behalf by the completion service, bound by every rule but
the grace period) or declines with a reason.

Approval locks the request row, then the completion service locks the session: always in that
order. The completion's idempotency key is the request's, so an approval that is retried, or
that races another agent's, completes the session and pays once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from studyhall.orgs.services.access import require_transaction
from studyhall.support.access import require_agent
from studyhall.support.models import LateLogRequest, RequestStatus
from studyhall.support.services.notify import after_commit_late_log_decided
from studyhall.support.text import required_text
from studyhall.tutoring.access import access_session
from studyhall.tutoring.eligibility import completion_refusal
from studyhall.tutoring.rules import check_duration, check_recap, describe_span
from studyhall.tutoring.selectors import deadline_of
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.text import when

# The completion keeps "Late-log request #<id>: <reason>" within its own 2,000 characters.
REASON_MAX_CHARS = 1500
DECLINE_REASON_MAX_CHARS = 2000


@dataclass(frozen=True)
class Decision:
    request: LateLogRequest
    # False when the request had already been decided this way (a repeat does nothing).
    changed: bool


def idempotency_key_for(request: LateLogRequest) -> str:
    return f"late-log:{request.pk}"


def request_late_log(
    *,
    actor: User,
    session_id: int,
    minutes: int | None,
    recap: Mapping[str, object],
    reason: str,
) -> LateLogRequest:
    """The tutor asks Support to log a session whose grace period has closed."""
    with transaction.atomic():
        session = access_session(actor, session_id)
        if session.tutor_id != actor.pk:
            raise Forbidden("Only the session's tutor can ask Support to log it.")
        now = timezone.now()
        deadline = deadline_of(session)
        participants = list(session.participants.select_related("user"))
        # Every other completion rule as it stood when logging closed: a session that could
        # not have been completed then cannot be logged late either.
        refusal = completion_refusal(
            session=session, participants=participants, actor=actor, now=min(now, deadline)
        )
        if refusal is not None:
            raise refusal
        if now <= deadline:
            raise RuleViolation(
                f"Logging is still open for {describe_span(deadline - now)}: complete the "
                f"session yourself before the grace period ends {when(deadline, actor.zone)}.",
                code="grace_period_open",
            )
        if LateLogRequest.objects.filter(session=session, status=RequestStatus.PENDING).exists():
            raise _already_open()
        minutes = check_duration(minutes)
        checked = check_recap(recap, min_chars=session.organization.min_recap_chars)
        reason = required_text(
            reason,
            field="Reason",
            max_length=REASON_MAX_CHARS,
            missing="Say why the session was not logged in time.",
        )
        try:
            with transaction.atomic():
                request = LateLogRequest.objects.create(
                    session=session,
                    requested_by=actor,
                    minutes=minutes,
                    reason=reason,
                    **checked.answers(),
                )
        except IntegrityError:
            # A second tab's request won the race; the database keeps one open per session.
            raise _already_open() from None
        audit.record(
            actor=actor,
            action="support.late_log_requested",
            organization_id=session.organization_id,
            session_id=session.pk,
            request_id=request.pk,
            minutes=minutes,
            reason=reason,
            grace_closed_at=deadline.isoformat(),
        )
    return request


def approve_late_log(*, actor: User, request_id: object) -> Decision:
    """Complete the session on the tutor's behalf with the request's time and recap, in the
    caller's transaction: the completion and the request's decision commit together."""
    require_agent(actor, action="log a session on a tutor's behalf")
    require_transaction()
    request = _locked(request_id)
    if request.status == RequestStatus.APPROVED:
        return Decision(request, changed=False)
    if request.status == RequestStatus.DECLINED:
        raise Conflict(
            "This request was already declined; the tutor can send a new one.",
            code="late_log_request_decided",
        )
    result = complete_session(
        session_id=request.session_id,
        actor=actor,
        minutes=request.minutes,
        recap=request.recap(),
        idempotency_key=idempotency_key_for(request),
        on_behalf_reason=f"Late-log request #{request.pk}: {request.reason}",
    )
    completion = result.completion
    request.status = RequestStatus.APPROVED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.completion = completion
    request.save(update_fields=["status", "decided_by", "decided_at", "completion"])
    audit.record(
        actor=actor,
        action="support.late_log_approved",
        organization_id=request.session.organization_id,
        session_id=request.session_id,
        request_id=request.pk,
        on_behalf_of=request.requested_by_id,
        minutes=completion.minutes,
        earnings_cents=completion.earning.amount_cents,
        transfer_id=completion.earning_id,
    )
    after_commit_late_log_decided(request_id=request.pk)
    return Decision(request, changed=True)


def decline_late_log(*, actor: User, request_id: object, reason: object) -> Decision:
    require_agent(actor, action="decide requests to log sessions")
    with transaction.atomic():
        request = _locked(request_id)
        reason = required_text(
            reason,
            field="Reason",
            max_length=DECLINE_REASON_MAX_CHARS,
            missing="Say why you are declining; the tutor reads it.",
        )
        if request.status == RequestStatus.DECLINED:
            return Decision(request, changed=False)
        if request.status == RequestStatus.APPROVED:
            raise Conflict(
                "This request was already approved and the session logged. To change what was "
                "paid, propose a correction.",
                code="late_log_request_decided",
            )
        request.status = RequestStatus.DECLINED
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.decline_reason = reason
        request.save(update_fields=["status", "decided_by", "decided_at", "decline_reason"])
        audit.record(
            actor=actor,
            action="support.late_log_declined",
            organization_id=request.session.organization_id,
            session_id=request.session_id,
            request_id=request.pk,
            reason=reason,
        )
        after_commit_late_log_decided(request_id=request.pk)
    return Decision(request, changed=True)


def _locked(request_id: object) -> LateLogRequest:
    if isinstance(request_id, bool) or not isinstance(request_id, int) or request_id <= 0:
        raise NotFound("There is no such request.")
    request = (
        LateLogRequest.objects.select_for_update(of=("self",))
        .select_related("session")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise NotFound("There is no such request.")
    return request


def _already_open() -> Conflict:
    return Conflict(
        "You already asked Support to log this session; an agent will answer it soon.",
        code="late_log_request_open",
    )
