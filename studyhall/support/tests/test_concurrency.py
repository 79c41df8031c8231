"""Approvals racing each other: many threads (each with its own PostgreSQL connection) approve
the same late-log request or the same correction at once. The request row's lock and the
idempotency keys make exactly one of them complete the session or move the money.

PostgreSQL only: there `select_for_update` takes real row locks. SQLite serialises every writer
anyway (BEGIN IMMEDIATE), so these are skipped there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.ledger.models import Entry, Transfer, TransferKind
from studyhall.ledger.selectors import balances_of
from studyhall.support.models import CorrectionProposal, CorrectionStatus, LateLogRequest
from studyhall.support.services.corrections import approve_correction, propose_correction
from studyhall.support.services.late_logging import approve_late_log, request_late_log
from studyhall.testing import factories as f
from studyhall.testing.factories import GOOD_RECAP
from studyhall.tutoring.models import Completion, Correction, Session, Status
from studyhall.tutoring.services.completion import complete_session

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks under concurrency are proven on PostgreSQL (DATABASE_URL=postgres://…)",
    ),
]

THREADS = 12


def approve_in_transaction(*, actor: User, request_id: int) -> Any:
    """As the approve page does: each approval in a transaction of its own."""
    with transaction.atomic(durable=True):
        return approve_late_log(actor=actor, request_id=request_id)


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call at once, each in its own thread (and database connection)."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = calls[index]()
        except Exception as exc:  # noqa: BLE001 - the test inspects whatever happened
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_racing_approvals_complete_and_pay_once(cast: Cast, late: Session, agent2: User) -> None:
    request = request_late_log(
        actor=cast.tutor, session_id=late.pk, minutes=55, recap=GOOD_RECAP, reason="Forgot."
    )
    agents = [cast.agent, agent2] * (THREADS // 2)
    results = race(
        [partial(approve_in_transaction, actor=a, request_id=request.pk) for a in agents]
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert sum(1 for r in results if r.changed) == 1
    late.refresh_from_db()
    assert late.status == Status.COMPLETED
    assert Completion.objects.filter(session=late).count() == 1
    assert Transfer.objects.filter(session=late, kind=TransferKind.EARNING).count() == 1
    assert LateLogRequest.objects.get().completion == late.completion
    assert [m.cents for m in balances_of(cast.tutor)] == [1375]
    assert Entry.objects.aggregate(total=Sum("amount_cents"))["total"] == 0


def test_racing_second_agents_move_the_money_once(cast: Cast, agent2: User) -> None:
    agent3 = f.make_user(email="agent3@example.test", name="Sam Support", is_support_agent=True)
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=55, recap=GOOD_RECAP)
    proposal = propose_correction(
        actor=cast.agent, session_id=session.pk, kind="void", minutes=None, reason="Duplicate"
    )
    # The proposer races too: refused every time, whatever the order.
    approvers = [agent2, agent3, cast.agent] * (THREADS // 3)
    results = race(
        [partial(approve_correction, actor=a, proposal_id=proposal.pk) for a in approvers]
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == THREADS // 3
    assert {getattr(r, "code", None) for r in refused} == {"second_agent_required"}
    assert sum(1 for r in results if not isinstance(r, Exception) and r.changed) == 1
    assert Correction.objects.filter(session=session).count() == 1
    assert Transfer.objects.filter(session=session, kind=TransferKind.REVERSAL).count() == 1
    assert CorrectionProposal.objects.get().status == CorrectionStatus.APPROVED
    assert [m.cents for m in balances_of(cast.tutor)] == [0]
    assert Entry.objects.aggregate(total=Sum("amount_cents"))["total"] == 0
