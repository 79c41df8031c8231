"""The web server's PostgreSQL connections under load: bounded by the pool, reused, and a dry
pool answered with a clear 503 (problem+json on the API, a page elsewhere), never a 500.

A real uvicorn process serves the test database; the test holds table locks from its own
connection so that requests hold their pooled connections for as long as it wants.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from studyhall.accounts.tokens import issue_token
from studyhall.core.database import BUSY_MESSAGE
from studyhall.testing import factories as f
from studyhall.testing import servers
from studyhall.tutoring.models import Completion, Status

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the connection pool is PostgreSQL's (DATABASE_URL=postgres://…)",
    ),
]

APP_NAME = "studyhall-pool-test"


def database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def admin_connection() -> psycopg.Connection[Any]:
    """A connection of the test's own, outside Django and outside the server's pool."""
    return psycopg.connect(database_url().replace("postgres://", "postgresql://", 1))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[servers.Server] = []

    def start(*, pool_size: int, pool_timeout: float) -> servers.Server:
        server = servers.start(
            servers.uvicorn_command(),
            env={
                "DATABASE_URL": database_url(),
                "DEBUG": "0",
                # The same key as this process, so the sessions it signs in are valid there.
                "SECRET_KEY": settings.SECRET_KEY,
                "SECURE_COOKIES": "0",
                "STUDYHALL_DB_POOL_SIZE": str(pool_size),
                "STUDYHALL_DB_POOL_TIMEOUT": str(pool_timeout),
                "PGAPPNAME": APP_NAME,
            },
            log=tmp_path / f"server-{len(started)}.log",
        )
        started.append(server)
        return server

    yield start
    for server in started:
        servers.stop(server)
        assert "Traceback" not in server.log_text(), server.log_text()


def server_connections(admin: psycopg.Connection[Any]) -> int:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
    ).fetchone()
    assert row is not None
    return int(row[0])


def waiting_on_locks(admin: psycopg.Connection[Any]) -> int:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
        " AND wait_event_type = 'Lock'",
        [APP_NAME],
    ).fetchone()
    assert row is not None
    return int(row[0])


def in_background(fn: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    return thread, out


def wait_for(condition: Any, *, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the server's requests never reached the lock"
        time.sleep(0.02)


def test_a_dry_pool_answers_503_problem_json_and_writes_nothing(
    transactional_db: None, cast: Cast, serve: Any
) -> None:
    server = serve(pool_size=2, pool_timeout=0.5)
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    token = issue_token(request=None, email=cast.tutor.email, password=f.PASSWORD)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base, timeout=60, trust_env=False) as warm:
        assert warm.get("/api/v1/me/balance", headers=auth).status_code == 200

    with admin_connection() as admin, admin_connection() as locker:
        # Both pooled connections end up waiting behind this lock, held by requests.
        locker.execute("LOCK TABLE accounts_apitoken IN ACCESS EXCLUSIVE MODE")
        held = [
            in_background(
                lambda: httpx.get(
                    f"{server.base}/api/v1/me/balance", headers=auth, timeout=30, trust_env=False
                )
            )
            for _ in range(2)
        ]
        wait_for(lambda: waiting_on_locks(admin) == 2)

        started = time.monotonic()
        refused = httpx.post(
            f"{server.base}/api/v1/sessions/{session.pk}/complete",
            json={"minutes": 55, "recap": dict(f.GOOD_RECAP)},
            headers=auth,
            timeout=30,
            trust_env=False,
        )
        waited = time.monotonic() - started
        locker.rollback()
        for thread, _ in held:
            thread.join(timeout=30)
        assert server_connections(admin) == 2

    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "2"
    assert refused.json() == {
        "type": "https://studyhall.dev/problems/database_busy",
        "title": "Service unavailable",
        "status": 503,
        "detail": BUSY_MESSAGE,
        "code": "database_busy",
    }
    # It waited for the pool's timeout, then gave up, rather than failing at once.
    assert 0.5 <= waited < 5, waited
    assert [out[0].status_code for _, out in held] == [200, 200]
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED
    assert Completion.objects.count() == 0


def test_a_dry_pool_answers_a_page_with_503(transactional_db: None, cast: Cast, serve: Any) -> None:
    server = serve(pool_size=1, pool_timeout=0.3)
    browser = Client()
    browser.force_login(cast.tutor)
    cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    # The first request of a process pays its imports; pay them before timing anything.
    warm = httpx.get(f"{server.base}/sessions/", headers=cookie, timeout=60, trust_env=False)
    assert warm.status_code == 200

    with admin_connection() as admin, admin_connection() as locker:
        locker.execute("LOCK TABLE django_session IN ACCESS EXCLUSIVE MODE")
        thread, out = in_background(
            lambda: httpx.get(
                f"{server.base}/sessions/", headers=cookie, timeout=30, trust_env=False
            )
        )
        wait_for(lambda: waiting_on_locks(admin) == 1)
        refused = httpx.get(f"{server.base}/sessions/", headers=cookie, timeout=30, trust_env=False)
        locker.rollback()
        thread.join(timeout=30)

    assert refused.status_code == 503
    assert refused.headers["content-type"] == "text/html; charset=utf-8"
    assert refused.headers["retry-after"] == "2"
    assert "<h1>Studyhall is busy</h1>" in refused.text
    assert BUSY_MESSAGE in refused.text
    assert out[0].status_code == 200


def test_concurrent_requests_hold_no_more_connections_than_the_pool(
    transactional_db: None, cast: Cast, serve: Any
) -> None:
    server = serve(pool_size=3, pool_timeout=10)
    for _ in range(3):
        f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    token = issue_token(request=None, email=cast.tutor.email, password=f.PASSWORD)
    auth = {"Authorization": f"Bearer {token}"}
    warm = httpx.get(f"{server.base}/api/v1/sessions", headers=auth, timeout=60, trust_env=False)
    assert warm.status_code == 200
    clients, per_client = 16, 8
    statuses: list[int] = []
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        with admin_connection() as admin:
            while not done.is_set():
                peak = max(peak, server_connections(admin))
                admin.commit()
                time.sleep(0.01)

    def client() -> None:
        with httpx.Client(base_url=server.base, timeout=30, trust_env=False) as http:
            statuses.extend(
                http.get("/api/v1/sessions", headers=auth).status_code for _ in range(per_client)
            )

    sampler = threading.Thread(target=sample)
    sampler.start()
    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    done.set()
    sampler.join(timeout=10)

    assert statuses == [200] * (clients * per_client)
    assert 1 <= peak <= 3, peak
