"""Logging a session after its grace period, at the service level: the tutor is refused
(`grace_period_expired`), asks Support, an agent approves through the completion service, the
session is completed once with the agent recorded and the earning paid; every refusal writes
nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import Entry, Transfer, TransferKind
from studyhall.ledger.selectors import balances_of
from studyhall.support.models import LateLogRequest, RequestStatus
from studyhall.support.services.late_logging import (
    approve_late_log,
    decline_late_log,
    request_late_log,
)
from studyhall.testing import factories as f
from studyhall.testing.factories import GOOD_RECAP
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.models import Completion, ParticipantState, Session, Status
from studyhall.tutoring.services.completion import complete_session

pytestmark = pytest.mark.postgres

REASON = "I was at a conference all week and forgot to log it."


def approve(*, actor: Any, request_id: Any) -> Any:
    """As the approve page does: in a transaction of its own."""
    with transaction.atomic():
        return approve_late_log(actor=actor, request_id=request_id)


def ask(cast: Cast, session: Session, **overrides: Any) -> LateLogRequest:
    args: dict[str, Any] = {
        "actor": cast.tutor,
        "session_id": session.pk,
        "minutes": 55,
        "recap": GOOD_RECAP,
        "reason": REASON,
    }
    args.update(overrides)
    return request_late_log(**args)


def writes() -> tuple[int, int, int, int]:
    return (
        LateLogRequest.objects.count(),
        Completion.objects.count(),
        Transfer.objects.count(),
        AuditEntry.objects.count(),
    )


def test_late_logging_end_to_end(
    cast: Cast,
    late: Session,
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The tutor can no longer complete it.
    with pytest.raises(DomainError) as refused:
        complete_session(session_id=late.pk, actor=cast.tutor, minutes=55, recap=GOOD_RECAP)
    assert refused.value.code == "grace_period_expired"
    assert "Ask Support to log this session" in refused.value.message
    assert Completion.objects.count() == 0

    request = ask(cast, late)
    assert request.status == RequestStatus.PENDING
    assert (request.minutes, request.reason, request.requested_by) == (55, REASON, cast.tutor)
    asked = AuditEntry.objects.get(action="support.late_log_requested")
    assert (asked.actor, asked.session_id, asked.data["request_id"]) == (
        cast.tutor,
        late.pk,
        request.pk,
    )

    with django_capture_on_commit_callbacks(execute=True):
        decision = approve(actor=cast.agent, request_id=request.pk)
    run_queued_tasks()
    assert decision.changed
    request.refresh_from_db()
    late.refresh_from_db()
    assert late.status == Status.COMPLETED
    assert request.status == RequestStatus.APPROVED
    assert (request.decided_by, request.completion_id) == (cast.agent, late.completion.pk)

    completion = late.completion
    assert completion.completed_by == cast.agent
    assert completion.minutes == 55
    assert completion.idempotency_key == f"late-log:{request.pk}"
    assert completion.on_behalf_reason == f"Late-log request #{request.pk}: {REASON}"
    # $15.00/h × 55 min = $13.75, into the tutor's account.
    assert completion.earning.amount_cents == 1375
    assert [(m.cents, m.currency) for m in balances_of(cast.tutor)] == [(1375, "USD")]
    completed = AuditEntry.objects.get(action="session.completed_by_support")
    assert completed.actor == cast.agent
    assert completed.data["on_behalf_of"] == cast.tutor.pk
    assert completed.data["reason"] == completion.on_behalf_reason
    approved = AuditEntry.objects.get(action="support.late_log_approved")
    assert (approved.actor, approved.data["earnings_cents"]) == (cast.agent, 1375)

    # The tutor is told; the student gets the recap.
    subjects = {(m.to[0], m.subject) for m in mailoutbox}
    assert ("tutor@example.test", "Support logged your session (CHEM 110)") in subjects
    assert ("maya@example.test", "Recap of your CHEM 110 session with Tess Tutor") in subjects
    told = next(m for m in mailoutbox if m.to == ["tutor@example.test"])
    assert "$13.75 deposited" in told.body
    assert "Sue Support" in told.body

    # A second approval (a double click, another agent) does nothing.
    before = writes()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = approve(actor=cast.agent, request_id=request.pk)
        other = approve(actor=cast.agent, request_id=request.pk)
    run_queued_tasks()
    assert not again.changed and not other.changed
    assert writes() == before
    assert mailoutbox == []
    assert Completion.objects.filter(session=late).count() == 1
    assert Transfer.objects.filter(session=late, kind=TransferKind.EARNING).count() == 1


def test_the_ledger_balances_after_approval(cast: Cast, late: Session) -> None:
    approve(actor=cast.agent, request_id=ask(cast, late, minutes=25).pk)
    assert Entry.objects.aggregate(total=Sum("amount_cents"))["total"] == 0
    # $15.00 × 25 / 60 = $6.25
    assert [m.cents for m in balances_of(cast.tutor)] == [625]


def test_a_second_agent_approving_afterwards_completes_nothing_more(
    cast: Cast, late: Session, agent2: User
) -> None:
    request = ask(cast, late)
    approve(actor=cast.agent, request_id=request.pk)
    before = writes()
    assert not approve(actor=agent2, request_id=request.pk).changed
    assert writes() == before
    assert LateLogRequest.objects.get().decided_by == cast.agent


def test_decline_tells_the_tutor_why_and_writes_no_money(
    cast: Cast,
    late: Session,
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = ask(cast, late)
    with django_capture_on_commit_callbacks(execute=True):
        decision = decline_late_log(
            actor=cast.agent, request_id=request.pk, reason="Maya says this session never met."
        )
    run_queued_tasks()
    assert decision.changed
    request.refresh_from_db()
    assert request.status == RequestStatus.DECLINED
    assert request.decline_reason == "Maya says this session never met."
    assert Completion.objects.count() == 0 and Transfer.objects.count() == 0
    late.refresh_from_db()
    assert late.status == Status.SCHEDULED
    [email] = mailoutbox
    assert email.to == ["tutor@example.test"]
    assert email.subject == "Support could not log your session (CHEM 110)"
    assert "Maya says this session never met." in email.body
    entry = AuditEntry.objects.get(action="support.late_log_declined")
    assert entry.data["reason"] == "Maya says this session never met."

    # Declined requests cannot be approved, and declining again changes nothing.
    before = writes()
    with pytest.raises(Conflict) as conflict:
        approve(actor=cast.agent, request_id=request.pk)
    assert conflict.value.code == "late_log_request_decided"
    assert not decline_late_log(actor=cast.agent, request_id=request.pk, reason="again").changed
    assert writes() == before
    # The tutor may ask again.
    assert ask(cast, late).status == RequestStatus.PENDING


def test_an_approved_request_cannot_be_declined(cast: Cast, late: Session) -> None:
    request = ask(cast, late)
    approve(actor=cast.agent, request_id=request.pk)
    before = writes()
    with pytest.raises(Conflict) as conflict:
        decline_late_log(actor=cast.agent, request_id=request.pk, reason="Changed my mind")
    assert conflict.value.code == "late_log_request_decided"
    assert writes() == before


def test_one_open_request_per_session(cast: Cast, late: Session) -> None:
    ask(cast, late)
    before = writes()
    with pytest.raises(Conflict) as conflict:
        ask(cast, late, minutes=30)
    assert conflict.value.code == "late_log_request_open"
    assert writes() == before


def test_the_database_keeps_one_open_request_per_session(cast: Cast, late: Session) -> None:
    from django.db import IntegrityError, transaction

    ask(cast, late)
    with pytest.raises(IntegrityError), transaction.atomic():
        LateLogRequest.objects.create(
            session=late, requested_by=cast.tutor, minutes=30, reason="x", **GOOD_RECAP
        )


# -- refusals: each says why, none writes anything -------------------------------------------


@pytest.mark.parametrize("who", ["student", "student2", "other_tutor", "admin", "agent"])
def test_only_the_tutor_asks(cast: Cast, late: Session, who: str) -> None:
    before = writes()
    with pytest.raises(Forbidden):
        ask(cast, late, actor=getattr(cast, who))
    assert writes() == before


def test_outsiders_do_not_learn_the_session_exists(cast: Cast, late: Session) -> None:
    with pytest.raises(NotFound):
        ask(cast, late, actor=cast.outsider)
    with pytest.raises(NotFound):
        ask(cast, late, session_id=999_999)
    assert writes() == (0, 0, 0, 0)


@pytest.mark.parametrize("who", ["tutor", "student", "admin", "outsider"])
def test_only_agents_decide(cast: Cast, late: Session, who: str) -> None:
    request = ask(cast, late)
    before = writes()
    for decide in (
        lambda actor: approve(actor=actor, request_id=request.pk),
        lambda actor: decline_late_log(actor=actor, request_id=request.pk, reason="no"),
    ):
        with pytest.raises(Forbidden) as refused:
            decide(getattr(cast, who))
        assert refused.value.code == "agents_only"
    assert writes() == before
    assert LateLogRequest.objects.get().status == RequestStatus.PENDING


def test_while_logging_is_open_the_tutor_logs_it_themselves(cast: Cast, ready: Session) -> None:
    with pytest.raises(DomainError) as refused:
        ask(cast, ready)
    assert refused.value.code == "grace_period_open"
    assert "complete the session yourself" in refused.value.message
    assert writes() == (0, 0, 0, 0)


def test_every_other_completion_rule_still_applies(cast: Cast) -> None:
    pending = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        states=[ParticipantState.ACCEPTED, ParticipantState.INVITED],
        start=timezone.now() - timedelta(hours=90),
    )
    with pytest.raises(DomainError) as refused:
        ask(cast, pending)
    assert refused.value.code == "participants_not_accepted"
    canceled = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        status=Status.CANCELED,
        start=timezone.now() - timedelta(hours=100),
    )
    with pytest.raises(DomainError) as refused:
        ask(cast, canceled)
    assert refused.value.code == "session_not_completable"
    assert writes() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"minutes": 7}, "invalid_duration"),
        ({"minutes": 95}, "invalid_duration"),
        ({"minutes": "55"}, "invalid_duration"),
        ({"minutes": None}, "invalid_duration"),
        ({"recap": {**GOOD_RECAP, "next_steps": "  "}}, "recap_incomplete"),
        ({"recap": dict.fromkeys(GOOD_RECAP, "Short.")}, "recap_too_short"),
        ({"recap": {**GOOD_RECAP, "next_steps": 5}}, "invalid_input"),
        ({"reason": "   "}, "reason_required"),
        ({"reason": None}, "reason_required"),
        ({"reason": ["a"]}, "invalid_input"),
        ({"reason": "nul\x00byte"}, "invalid_input"),
        ({"reason": "x" * 1501}, "text_too_long"),
        ({"session_id": "1"}, "not_found"),
        ({"session_id": True}, "not_found"),
    ],
)
def test_bad_input_is_refused_with_its_code(
    cast: Cast, late: Session, overrides: dict[str, Any], code: str
) -> None:
    with pytest.raises(DomainError) as refused:
        ask(cast, late, **overrides)
    assert refused.value.code == code
    assert writes() == (0, 0, 0, 0)


@pytest.mark.parametrize("request_id", [0, -1, "1", None, True, 10**12])
def test_unknown_requests_are_not_found(cast: Cast, request_id: Any) -> None:
    with pytest.raises(NotFound):
        approve(actor=cast.agent, request_id=request_id)
    with pytest.raises(NotFound):
        decline_late_log(actor=cast.agent, request_id=request_id, reason="no")


def test_decline_needs_a_reason(cast: Cast, late: Session) -> None:
    request = ask(cast, late)
    before = writes()
    with pytest.raises(InvalidInput) as refused:
        decline_late_log(actor=cast.agent, request_id=request.pk, reason=" ")
    assert refused.value.code == "reason_required"
    assert writes() == before


def test_approval_refused_by_a_completion_rule_leaves_the_request_open(
    cast: Cast, late: Session
) -> None:
    request = ask(cast, late)
    # After the request, an agent completed the session directly.
    complete_session(
        session_id=late.pk,
        actor=cast.agent,
        minutes=30,
        recap=GOOD_RECAP,
        on_behalf_reason="Logged from the chat",
    )
    before = writes()
    with pytest.raises(Conflict) as conflict:
        approve(actor=cast.agent, request_id=request.pk)
    assert conflict.value.code == "already_completed"
    assert writes() == before
    assert LateLogRequest.objects.get().status == RequestStatus.PENDING
    # The agent declines it instead.
    decline_late_log(actor=cast.agent, request_id=request.pk, reason="Already logged for you.")
    assert LateLogRequest.objects.get().status == RequestStatus.DECLINED
