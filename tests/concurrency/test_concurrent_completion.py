"""Completing sessions under real concurrency: 20 threads, real HTTP, a live server whose
request threads each hold their own PostgreSQL connection.

PostgreSQL only: there `select_for_update` takes real row locks, which is what these tests
prove correct. SQLite serialises every writer anyway (BEGIN IMMEDIATE), so they are skipped.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from django.core.management import call_command, get_commands
from django.db import connection
from django.utils import timezone

from studyhall.accounts.tokens import issue_token
from studyhall.ledger.models import Account, AccountKind, Transfer
from studyhall.ledger.selectors import balance_cents
from studyhall.testing import factories as f
from studyhall.tutoring.models import Completion, Session, Status

if TYPE_CHECKING:
    from pytest_django.live_server_helper import LiveServer

    from conftest import Cast

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks under concurrency are proven on PostgreSQL (DATABASE_URL=postgres://…)",
    ),
]

THREADS = 20
# Generous: a deadlock or a lost wake-up shows up as a timeout rather than a hang.
REQUEST_TIMEOUT = 30.0
RECAP = dict(f.GOOD_RECAP)


@dataclass(frozen=True)
class Call:
    session_id: int
    minutes: int
    key: str | None


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    replayed: bool

    def json(self) -> Any:
        return httpx.Response(self.status, content=self.body).json()


def fire_together(base_url: str, token: str, calls: list[Call]) -> list[Reply]:
    """Send every call from its own thread, released at the same instant by a barrier."""
    barrier = threading.Barrier(len(calls))
    replies: list[Reply | None] = [None] * len(calls)
    failures: list[BaseException] = []

    def run(index: int, call: Call) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        if call.key is not None:
            headers["Idempotency-Key"] = call.key
        try:
            with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
                # Connect first (the server keeps the connection alive), so that the barrier
                # releases requests rather than TCP handshakes queueing at the listen socket.
                client.get("/api/v1/me/balance", headers=headers).raise_for_status()
                barrier.wait(timeout=REQUEST_TIMEOUT)
                response = client.post(
                    f"/api/v1/sessions/{call.session_id}/complete",
                    json={"minutes": call.minutes, "recap": RECAP},
                    headers=headers,
                )
            replies[index] = Reply(
                response.status_code,
                response.content,
                response.headers.get("Idempotent-Replayed") == "true",
            )
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failures.append(exc)

    threads = [
        threading.Thread(target=run, args=(i, call), name=f"completer-{i}")
        for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT * 2)
    assert not any(t.is_alive() for t in threads), "a request never finished (deadlock?)"
    assert not failures, failures
    done = [r for r in replies if r is not None]
    assert len(done) == len(calls)
    return done


def check_ledger() -> None:
    if "check_ledger" in get_commands():
        call_command("check_ledger")


@pytest.fixture
def token(cast: Cast, live_server: LiveServer) -> str:
    token = issue_token(request=None, email=cast.tutor.email, password=f.PASSWORD)
    # The token's first use writes last_used_at; do it now so the race is only the completion.
    response = httpx.get(
        f"{live_server.url}/api/v1/me/balance", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return token


def ready_session(cast: Cast, *, student_index: int = 0) -> Session:
    students = [cast.student, cast.student2]
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[students[student_index]],
        start=timezone.now() - timedelta(hours=1),
    )


def balance(cast: Cast, kind: AccountKind) -> int:
    if kind == AccountKind.TUTOR_EARNINGS:
        return Account.objects.get(kind=kind, user=cast.tutor).balance_cents
    return balance_cents(Account.objects.get(kind=kind, organization=cast.org))


def test_twenty_requests_with_one_key_complete_and_pay_once(
    transactional_db: None, cast: Cast, live_server: LiveServer, token: str
) -> None:
    session = ready_session(cast)

    replies = fire_together(live_server.url, token, [Call(session.pk, 55, "same-key")] * THREADS)

    assert [r.status for r in replies] == [200] * THREADS, [r.body for r in replies]
    assert len({r.body for r in replies}) == 1
    assert sorted(r.replayed for r in replies) == [False] + [True] * (THREADS - 1)
    body = replies[0].json()
    assert (body["status"], body["logged_minutes"]) == ("completed", 55)
    assert body["earnings"] == {"amount_cents": 1375, "currency": "USD"}
    assert Completion.objects.filter(session=session).count() == 1
    assert Transfer.objects.filter(session=session, kind="earning").count() == 1
    assert Transfer.objects.count() == 1
    assert balance(cast, AccountKind.TUTOR_EARNINGS) == 1375
    assert balance(cast, AccountKind.PROGRAM_BUDGET) == -1375
    check_ledger()


def test_twenty_requests_with_different_keys_complete_once_and_refuse_the_rest(
    transactional_db: None, cast: Cast, live_server: LiveServer, token: str
) -> None:
    session = ready_session(cast)

    replies = fire_together(
        live_server.url, token, [Call(session.pk, 55, f"key-{i}") for i in range(THREADS)]
    )

    statuses = sorted(r.status for r in replies)
    assert statuses == [200] + [409] * (THREADS - 1), [r.body for r in replies]
    refused = [r.json() for r in replies if r.status == 409]
    assert {(p["code"], p["detail"]) for p in refused} == {
        ("already_completed", "This session has already been completed (55 min logged).")
    }
    assert not any(r.replayed for r in replies)
    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    assert Completion.objects.count() == 1
    assert Transfer.objects.count() == 1
    assert balance(cast, AccountKind.TUTOR_EARNINGS) == 1375
    assert balance(cast, AccountKind.PROGRAM_BUDGET) == -1375
    check_ledger()


def test_twenty_requests_without_a_key_complete_once(
    transactional_db: None, cast: Cast, live_server: LiveServer, token: str
) -> None:
    session = ready_session(cast)

    replies = fire_together(live_server.url, token, [Call(session.pk, 55, None)] * THREADS)

    assert sorted(r.status for r in replies) == [200] + [409] * (THREADS - 1)
    assert Completion.objects.count() == 1
    assert Transfer.objects.count() == 1
    assert balance(cast, AccountKind.TUTOR_EARNINGS) == 1375
    check_ledger()


def test_two_sessions_of_one_tutor_at_once_both_pay_exactly(
    transactional_db: None, cast: Cast, live_server: LiveServer, token: str
) -> None:
    first = ready_session(cast, student_index=0)
    second = ready_session(cast, student_index=1)
    # Neither ledger account exists yet: both completions race to create them as well.
    assert Account.objects.count() == 0
    calls = [
        Call(first.pk, 55, "first") if i % 2 == 0 else Call(second.pk, 30, "second")
        for i in range(THREADS)
    ]

    replies = fire_together(live_server.url, token, calls)

    assert [r.status for r in replies] == [200] * THREADS, [r.body for r in replies]
    earnings = {(r.json()["id"], r.json()["earnings"]["amount_cents"]) for r in replies}
    assert earnings == {(first.pk, 1375), (second.pk, 750)}
    assert sum(not r.replayed for r in replies) == 2
    assert Completion.objects.count() == 2
    assert Transfer.objects.count() == 2
    assert Account.objects.count() == 2
    assert balance(cast, AccountKind.TUTOR_EARNINGS) == 1375 + 750
    assert balance(cast, AccountKind.PROGRAM_BUDGET) == -(1375 + 750)
    check_ledger()
