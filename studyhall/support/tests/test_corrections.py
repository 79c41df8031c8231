"""Corrections with four eyes: one agent proposes, a different agent approves, and only then
does the ledger move — by exact, reversing or adjusting transfers. The proposer's own approval
is refused with a stable code and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.core.errors import Conflict, DomainError, Forbidden, NotFound
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import Entry, Transfer, TransferKind
from studyhall.ledger.selectors import balances_of
from studyhall.notifications.models import Kind, Notification
from studyhall.support.models import CorrectionProposal, CorrectionStatus, ProposalKind
from studyhall.support.services.corrections import (
    approve_correction,
    propose_correction,
    reject_correction,
)
from studyhall.testing.factories import GOOD_RECAP
from studyhall.tutoring.models import Correction, Session
from studyhall.tutoring.services.completion import complete_session

pytestmark = pytest.mark.postgres

REASON = "Maya's program confirmed the session ended after 30 minutes."


@pytest.fixture
def completed(cast: Cast, ready: Session) -> Session:
    """Logged by the tutor: 55 minutes at $15.00/h = $13.75."""
    complete_session(session_id=ready.pk, actor=cast.tutor, minutes=55, recap=GOOD_RECAP)
    ready.refresh_from_db()
    return ready


def propose(cast: Cast, session: Session, **overrides: Any) -> CorrectionProposal:
    args: dict[str, Any] = {
        "actor": cast.agent,
        "session_id": session.pk,
        "kind": ProposalKind.ADJUST_MINUTES,
        "minutes": 30,
        "reason": REASON,
    }
    args.update(overrides)
    return propose_correction(**args)


def tutor_balance(cast: Cast) -> list[int]:
    return [m.cents for m in balances_of(cast.tutor)]


def ledger_sums_to_zero() -> bool:
    return Entry.objects.aggregate(total=Sum("amount_cents"))["total"] == 0


def writes() -> tuple[int, int, int, int, int]:
    return (
        CorrectionProposal.objects.count(),
        CorrectionProposal.objects.exclude(status=CorrectionStatus.PENDING).count(),
        Correction.objects.count(),
        Transfer.objects.count(),
        AuditEntry.objects.count(),
    )


def test_a_change_of_minutes_needs_a_second_agent(
    cast: Cast,
    completed: Session,
    agent2: User,
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert tutor_balance(cast) == [1375]
    with django_capture_on_commit_callbacks(execute=True):
        proposal = propose(cast, completed)
    assert (proposal.status, proposal.logged_minutes, proposal.minutes) == ("pending", 55, 30)
    # Proposing moves nothing; the other agent is asked to approve.
    assert tutor_balance(cast) == [1375]
    assert Correction.objects.count() == 0
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["agent2@example.test"], "A correction is waiting for your approval")
    ]

    # The proposer's own approval is refused, and writes nothing.
    before = writes()
    with pytest.raises(Forbidden) as refused:
        approve_correction(actor=cast.agent, proposal_id=proposal.pk)
    assert refused.value.code == "second_agent_required"
    assert writes() == before
    assert tutor_balance(cast) == [1375]

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decision = approve_correction(actor=agent2, proposal_id=proposal.pk)
    assert decision.changed
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (CorrectionStatus.APPROVED, agent2)
    # 30 min at $15.00/h = $7.50: $6.25 goes back to the organization.
    assert proposal.difference_cents == -625
    assert tutor_balance(cast) == [750]
    assert ledger_sums_to_zero()
    adjustment = Transfer.objects.get(kind=TransferKind.ADJUSTMENT)
    assert (adjustment.amount_cents, adjustment.session_id, adjustment.created_by) == (
        625,
        completed.pk,
        agent2,
    )
    assert proposal.transfer == adjustment
    # History is kept: the earning is untouched.
    assert Transfer.objects.get(kind=TransferKind.EARNING).amount_cents == 1375
    approved = AuditEntry.objects.get(action="support.correction_approved")
    assert (approved.actor, approved.data["proposed_by"], approved.data["difference_cents"]) == (
        agent2,
        cast.agent.pk,
        -625,
    )
    # The tutor and the proposer are told; the approver is not emailed about their own act.
    assert sorted(m.to[0] for m in mailoutbox) == ["agent@example.test", "tutor@example.test"]
    to_tutor = next(m for m in mailoutbox if m.to == ["tutor@example.test"])
    assert "now paid for 30 min instead of 55 min" in to_tutor.body
    assert "−$6.25" in to_tutor.body
    # Why Support corrected it is an internal note: Support and admins only.
    assert "Reason:" not in to_tutor.body
    # ...and it is in their notifications in the app too.
    assert set(
        Notification.objects.filter(kind=Kind.CORRECTION, event="correction_approved").values_list(
            "user__email", "title", "session_id"
        )
    ) == {
        (email, "A correction to the pay for a CHEM 110 session was applied.", completed.pk)
        for email in ("agent@example.test", "tutor@example.test")
    }

    # Approving again moves nothing more.
    before = writes()
    assert not approve_correction(actor=agent2, proposal_id=proposal.pk).changed
    assert writes() == before
    assert tutor_balance(cast) == [750]


def test_voiding_reverses_the_whole_earning(cast: Cast, completed: Session, agent2: User) -> None:
    proposal = propose(cast, completed, kind=ProposalKind.VOID, minutes=None)
    assert proposal.minutes is None
    approve_correction(actor=agent2, proposal_id=proposal.pk)
    assert tutor_balance(cast) == [0]
    assert ledger_sums_to_zero()
    reversal = Transfer.objects.get(kind=TransferKind.REVERSAL)
    assert reversal.amount_cents == 1375
    proposal.refresh_from_db()
    assert proposal.difference_cents == -1375
    # Nothing more can be corrected once voided.
    with pytest.raises(Conflict) as conflict:
        propose(cast, completed, actor=agent2)
    assert conflict.value.code == "already_voided"


def test_corrections_chain_exactly(cast: Cast, completed: Session, agent2: User) -> None:
    approve_correction(actor=agent2, proposal_id=propose(cast, completed, minutes=30).pk)
    # The next proposal starts from what is paid now (30 min), not what was logged.
    second = propose(cast, completed, actor=agent2, minutes=90)
    assert second.logged_minutes == 30
    approve_correction(actor=cast.agent, proposal_id=second.pk)
    # 90 min at $15.00/h = $22.50
    assert tutor_balance(cast) == [2250]
    assert ledger_sums_to_zero()


def test_the_database_refuses_an_approval_by_the_proposer(cast: Cast, completed: Session) -> None:
    proposal = propose(cast, completed)
    with pytest.raises(IntegrityError), transaction.atomic():
        CorrectionProposal.objects.filter(pk=proposal.pk).update(
            status=CorrectionStatus.APPROVED, decided_by=cast.agent, decided_at=timezone.now()
        )


def test_rejecting_moves_nothing_and_tells_the_proposer(
    cast: Cast,
    completed: Session,
    agent2: User,
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    proposal = propose(cast, completed)
    with django_capture_on_commit_callbacks(execute=True):
        reject_correction(actor=agent2, proposal_id=proposal.pk, note="The tutor logged it right.")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision_note) == (
        CorrectionStatus.REJECTED,
        "The tutor logged it right.",
    )
    assert tutor_balance(cast) == [1375]
    assert Correction.objects.count() == 0
    [email] = mailoutbox
    assert email.to == ["agent@example.test"]
    assert "The tutor logged it right." in email.body
    with pytest.raises(Conflict) as conflict:
        approve_correction(actor=agent2, proposal_id=proposal.pk)
    assert conflict.value.code == "correction_decided"
    assert tutor_balance(cast) == [1375]


def test_the_proposer_can_withdraw(cast: Cast, completed: Session) -> None:
    proposal = propose(cast, completed)
    reject_correction(actor=cast.agent, proposal_id=proposal.pk, note="Wrong session.")
    entry = AuditEntry.objects.get(action="support.correction_rejected")
    assert entry.data["withdrawn"] is True
    # A new proposal can follow.
    assert propose(cast, completed).status == CorrectionStatus.PENDING


def test_one_pending_proposal_per_session(cast: Cast, completed: Session, agent2: User) -> None:
    propose(cast, completed)
    before = writes()
    with pytest.raises(Conflict) as conflict:
        propose(cast, completed, actor=agent2, kind=ProposalKind.VOID, minutes=None)
    assert conflict.value.code == "correction_pending"
    assert writes() == before


@pytest.mark.parametrize("who", ["tutor", "student", "other_tutor", "admin", "outsider"])
def test_only_agents_propose_approve_or_reject(cast: Cast, completed: Session, who: str) -> None:
    user = getattr(cast, who)
    with pytest.raises(Forbidden):
        propose(cast, completed, actor=user)
    proposal = propose(cast, completed)
    before = writes()
    with pytest.raises(Forbidden):
        approve_correction(actor=user, proposal_id=proposal.pk)
    with pytest.raises(Forbidden):
        reject_correction(actor=user, proposal_id=proposal.pk, note="no")
    assert writes() == before
    assert tutor_balance(cast) == [1375]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"kind": "refund"}, "invalid_correction_kind"),
        ({"kind": None}, "invalid_correction_kind"),
        ({"minutes": 7}, "invalid_duration"),
        ({"minutes": None}, "invalid_duration"),
        ({"minutes": 55}, "no_change"),
        ({"reason": ""}, "reason_required"),
        ({"reason": "bad\x00"}, "invalid_input"),
        ({"session_id": 999_999}, "not_found"),
    ],
)
def test_bad_proposals_are_refused_with_their_code(
    cast: Cast, completed: Session, overrides: dict[str, Any], code: str
) -> None:
    before = writes()
    with pytest.raises(DomainError) as refused:
        propose(cast, completed, **overrides)
    assert refused.value.code == code
    assert writes() == before


def test_an_uncompleted_session_has_nothing_to_correct(cast: Cast, ready: Session) -> None:
    with pytest.raises(Conflict) as conflict:
        propose(cast, ready)
    assert conflict.value.code == "not_completed"
    assert writes() == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("proposal_id", [0, -3, "1", None, 10**12])
def test_unknown_proposals_are_not_found(cast: Cast, proposal_id: Any) -> None:
    with pytest.raises(NotFound):
        approve_correction(actor=cast.agent, proposal_id=proposal_id)
    with pytest.raises(NotFound):
        reject_correction(actor=cast.agent, proposal_id=proposal_id, note="no")
