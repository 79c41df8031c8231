"""What one completion costs the database, pinned: completion is the hot path.

Counted in real transactions (no test savepoints), after a first completion has created the
tutor's and the budget's accounts, as a tutor completes in person and online."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from studyhall.accounts.tokens import issue_token
from studyhall.api.tests.support import Api
from studyhall.orgs.models import Program
from studyhall.testing import factories as f
from studyhall.tutoring.models import Mode, Session, Status
from studyhall.tutoring.services.completion import complete_session

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Statements inside the one transaction, without BEGIN and COMMIT: the locked read (with
# the rate, the program's budget account and whether a new time is open), the idempotency
# key's earlier use, the participants, the session's status, the recap's task, the transfer,
# its entries, the completion, the audit entry, the organization's webhook endpoints, and
# last the tutor's balance (UPDATE … RETURNING). Online adds who is still in the
# call and the call's events (the measured time).
IN_TRANSACTION: dict[str, int] = {Mode.IN_PERSON: 11, Mode.ONLINE: 13}
# A session booked before programs existed first finds the program that covers it now, with
# its budget account, in one query (the default program has no cap: nothing is counted).
BOOKED_BEFORE_PROGRAMS = 1


def _ready(cast: Cast, mode: str, *, with_program: bool = True) -> Session:
    f.set_rate(cast.org, cast.tutor, 1800)
    warm = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], mode=mode)
    # Nothing is measured in these classrooms; the tutor confirms the time (in person, a no-op).
    complete_session(
        session_id=warm.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP, confirm_time=True
    )
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        mode=mode,
        start=timezone.now() - timedelta(days=1),
    )
    if not with_program:
        Session.objects.filter(pk=session.pk).update(program=None)
    return session


def default_program_id(cast: Cast) -> int:
    return Program.objects.get(organization=cast.org, is_default=True).pk


def _captured_completion(cast: Cast, session: Session, **extra: Any) -> list[dict[str, Any]]:
    """The statements of the tutor's completion of `session` (30 minutes, time confirmed)."""
    with CaptureQueriesContext(connection) as ctx:
        complete_session(
            session_id=session.pk,
            actor=cast.tutor,
            minutes=30,
            recap=f.GOOD_RECAP,
            confirm_time=True,
            **extra,
        )
    return ctx.captured_queries


def _kinds(captured: list[dict[str, Any]]) -> Counter[str]:
    """Statements by kind; SQLite's log shows BEGIN and COMMIT, PostgreSQL's does not."""
    kinds: Counter[str] = Counter()
    for query in captured:
        sql = query["sql"].lstrip().upper()
        kinds["transaction" if sql.startswith(("BEGIN", "COMMIT")) else "statement"] += 1
        if sql.startswith("COMMIT") or sql.startswith("SAVEPOINT"):
            kinds[sql.split()[0].lower()] += 1
    return kinds


@pytest.mark.parametrize("with_program", [True, False])
@pytest.mark.parametrize("mode", [Mode.IN_PERSON, Mode.ONLINE])
def test_one_completion_is_one_transaction_of_few_statements(
    cast: Cast, mode: str, with_program: bool
) -> None:
    session = _ready(cast, mode, with_program=with_program)
    captured = _captured_completion(cast, session, idempotency_key="key-1")
    kinds = _kinds(captured)
    expected = IN_TRANSACTION[mode] + (0 if with_program else BOOKED_BEFORE_PROGRAMS)
    assert kinds["statement"] == expected, [q["sql"] for q in captured]
    assert kinds["savepoint"] == 0
    if connection.vendor == "sqlite":
        assert kinds["commit"] == 1
    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    assert session.program_id == default_program_id(cast)


@pytest.mark.parametrize("mode", [Mode.IN_PERSON, Mode.ONLINE])
def test_the_api_answers_a_completion_from_what_it_wrote(cast: Cast, mode: str) -> None:
    session = _ready(cast, mode)
    api = Api(token=issue_token(request=None, email=cast.tutor.email, password=f.PASSWORD))
    assert api.get("/me/balance").status_code == 200  # a token records its first use once
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(
            f"/sessions/{session.pk}/complete",
            {"minutes": 30, "recap": dict(f.GOOD_RECAP), "confirm_time": True},
            headers={"Idempotency-Key": "key-1"},
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["logged_minutes"], body["earnings"]) == (
        "completed",
        30,
        {"amount_cents": 900, "currency": "USD"},
    )
    assert [p["user"]["id"] for p in body["participants"]] == [cast.student.pk]
    kinds = _kinds(ctx.captured_queries)
    # The bearer token with its user (1) and the completion: no re-read of the session, no
    # admin check (whoever completes sees the earnings), no proposal (none is open).
    assert kinds["statement"] == 1 + IN_TRANSACTION[mode], [q["sql"] for q in ctx.captured_queries]
    if connection.vendor == "sqlite":
        assert kinds["commit"] == 1


@pytest.mark.parametrize("mode", [Mode.IN_PERSON, Mode.ONLINE])
def test_the_tutors_balance_is_the_last_statement_before_the_commit(cast: Cast, mode: str) -> None:
    """Every completion of one tutor waits on that tutor's account row: it is locked by the
    transaction's last statement, so it stays locked only for that statement and the commit."""
    statements = [
        q["sql"].lstrip()
        for q in _captured_completion(cast, _ready(cast, mode))
        if not q["sql"].lstrip().upper().startswith(("BEGIN", "COMMIT"))
    ]
    touching_accounts = [i for i, sql in enumerate(statements) if '"ledger_account"' in sql]
    last = statements[-1]
    assert last.startswith('UPDATE "ledger_account" SET "balance_cents"'), last
    # The only other mention of the accounts is the locked read's subqueries (their ids).
    assert touching_accounts[-1] == len(statements) - 1
    assert all(statements[i].startswith("SELECT") for i in touching_accounts[:-1])
