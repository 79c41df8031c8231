"""Money corrections with four eyes: one agent proposes voiding a completion or changing its
minutes, a different agent approves, and only then does the ledger move (through
`tutoring.services.corrections`). The proposer can withdraw (reject) their own proposal but
never approve it; the database refuses such an approval too.

Approval locks the proposal row, then the corrections service locks the session: always in
that order. Its idempotency key is the proposal's, so a retried approval moves money once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from studyhall.support.access import require_agent
from studyhall.support.models import CorrectionProposal, CorrectionStatus, ProposalKind
from studyhall.support.services.notify import after_commit_correction_event
from studyhall.support.text import required_text
from studyhall.tutoring.access import access_session
from studyhall.tutoring.models import Completion, Correction, CorrectionKind
from studyhall.tutoring.rules import check_duration, duration_label
from studyhall.tutoring.services.corrections import (
    adjust_completion_minutes,
    effective_minutes,
    void_completion,
)

REASON_MAX_CHARS = 1800


@dataclass(frozen=True)
class ProposalDecision:
    proposal: CorrectionProposal
    # False when it had already been decided this way (a repeat does nothing).
    changed: bool


def idempotency_key_for(proposal: CorrectionProposal) -> str:
    return f"support-correction:{proposal.pk}"


def propose_correction(
    *, actor: User, session_id: int, kind: str, minutes: int | None, reason: str
) -> CorrectionProposal:
    """Propose voiding the session's completion or paying it for `minutes` instead."""
    require_agent(actor, action="propose corrections")
    with transaction.atomic():
        session = access_session(actor, session_id)
        completion = Completion.objects.filter(session=session).first()
        if completion is None:
            raise Conflict(
                "This session has not been completed, so there is no pay to correct.",
                code="not_completed",
            )
        applied = list(Correction.objects.filter(session=session).order_by("created_at", "id"))
        if applied and applied[-1].kind == CorrectionKind.VOID:
            raise Conflict("This session's completion was already voided.", code="already_voided")
        current = effective_minutes(completion, applied)
        if not isinstance(kind, str) or kind not in ProposalKind.values:
            raise InvalidInput(
                "Choose a correction: void the completion, or change the logged time.",
                code="invalid_correction_kind",
            )
        new_minutes: int | None = None
        if kind == ProposalKind.ADJUST_MINUTES:
            new_minutes = check_duration(minutes, what="The new time")
            if new_minutes == current:
                raise RuleViolation(
                    f"The session is already paid for {duration_label(current)}; choose "
                    "another time.",
                    code="no_change",
                )
        text = required_text(
            reason,
            field="Reason",
            max_length=REASON_MAX_CHARS,
            missing="Give the reason for the correction; the tutor sees it.",
        )
        if CorrectionProposal.objects.filter(
            session=session, status=CorrectionStatus.PENDING
        ).exists():
            raise _pending()
        try:
            with transaction.atomic():
                proposal = CorrectionProposal.objects.create(
                    session=session,
                    kind=kind,
                    minutes=new_minutes,
                    logged_minutes=current,
                    reason=text,
                    proposed_by=actor,
                )
        except IntegrityError:
            raise _pending() from None
        audit.record(
            actor=actor,
            action="support.correction_proposed",
            organization_id=session.organization_id,
            session_id=session.pk,
            proposal_id=proposal.pk,
            kind=kind,
            minutes=new_minutes,
            logged_minutes=current,
            reason=text,
        )
        after_commit_correction_event(proposal_id=proposal.pk, event="proposed", actor_id=actor.pk)
    return proposal


def approve_correction(*, actor: User, proposal_id: object) -> ProposalDecision:
    """A second agent approves: the ledger gets the reversing or adjusting transfer."""
    require_agent(actor, action="approve corrections")
    with transaction.atomic():
        proposal = _locked(proposal_id)
        if proposal.proposed_by_id == actor.pk:
            raise Forbidden(
                "You proposed this correction, so another support agent has to approve it.",
                code="second_agent_required",
            )
        if proposal.status == CorrectionStatus.APPROVED:
            return ProposalDecision(proposal, changed=False)
        if proposal.status == CorrectionStatus.REJECTED:
            raise Conflict(
                "This correction was rejected; propose it again if it is still needed.",
                code="correction_decided",
            )
        key = idempotency_key_for(proposal)
        if proposal.kind == ProposalKind.VOID:
            applied = void_completion(
                session_id=proposal.session_id,
                actor=actor,
                reason=proposal.reason,
                idempotency_key=key,
            )
        else:
            assert proposal.minutes is not None  # the model's constraint
            applied = adjust_completion_minutes(
                session_id=proposal.session_id,
                actor=actor,
                minutes=proposal.minutes,
                reason=proposal.reason,
                idempotency_key=key,
            )
        proposal.status = CorrectionStatus.APPROVED
        proposal.decided_by = actor
        proposal.decided_at = timezone.now()
        proposal.transfer_id = applied.transfer_id
        proposal.difference_cents = applied.difference_cents
        proposal.save(
            update_fields=["status", "decided_by", "decided_at", "transfer", "difference_cents"]
        )
        audit.record(
            actor=actor,
            action="support.correction_approved",
            organization_id=proposal.session.organization_id,
            session_id=proposal.session_id,
            proposal_id=proposal.pk,
            proposed_by=proposal.proposed_by_id,
            kind=proposal.kind,
            minutes=proposal.minutes,
            correction_id=applied.pk,
            transfer_id=applied.transfer_id,
            difference_cents=applied.difference_cents,
        )
        after_commit_correction_event(proposal_id=proposal.pk, event="approved", actor_id=actor.pk)
    return ProposalDecision(proposal, changed=True)


def reject_correction(*, actor: User, proposal_id: object, note: object) -> ProposalDecision:
    """Another agent turns the proposal down, or its proposer withdraws it. Nothing moves."""
    require_agent(actor, action="reject corrections")
    with transaction.atomic():
        proposal = _locked(proposal_id)
        text = required_text(
            note,
            field="Note",
            max_length=REASON_MAX_CHARS,
            missing="Say why the correction should not be made.",
        )
        if proposal.status == CorrectionStatus.REJECTED:
            return ProposalDecision(proposal, changed=False)
        if proposal.status == CorrectionStatus.APPROVED:
            raise Conflict(
                "This correction was already approved and applied.", code="correction_decided"
            )
        proposal.status = CorrectionStatus.REJECTED
        proposal.decided_by = actor
        proposal.decided_at = timezone.now()
        proposal.decision_note = text
        proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit.record(
            actor=actor,
            action="support.correction_rejected",
            organization_id=proposal.session.organization_id,
            session_id=proposal.session_id,
            proposal_id=proposal.pk,
            withdrawn=proposal.proposed_by_id == actor.pk,
            reason=text,
        )
        after_commit_correction_event(proposal_id=proposal.pk, event="rejected", actor_id=actor.pk)
    return ProposalDecision(proposal, changed=True)


def _locked(proposal_id: object) -> CorrectionProposal:
    if isinstance(proposal_id, bool) or not isinstance(proposal_id, int) or proposal_id <= 0:
        raise NotFound("There is no such correction.")
    proposal = (
        CorrectionProposal.objects.select_for_update(of=("self",))
        .select_related("session")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise NotFound("There is no such correction.")
    return proposal


def _pending() -> Conflict:
    return Conflict(
        "A correction of this session is already waiting for a second agent; approve or "
        "reject that one first.",
        code="correction_pending",
    )
