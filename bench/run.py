"""The benchmark: `make bench`. Seeds PostgreSQL, starts the production configuration
(gunicorn for HTTP and uvicorn for WebSockets, several workers each, Redis, DEBUG=0), and
prints min/median/max over REPS repetitions.

Load goes only to 127.0.0.1 and every run is bounded in requests and seconds. To add a
measure, write a function `def my_measure(ctx: Context) -> list[Row]` and append it to
MEASURES (see bench/README.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/studyhall_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
REPS = int(os.environ.get("BENCH_REPS", "3"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "4"))
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "8"))
RSS_REQUESTS = int(os.environ.get("BENCH_RSS_REQUESTS", "20000"))
# Each pgbench client commits this many completions per repetition, each of its own session.
PGBENCH_TRANSACTIONS = int(os.environ.get("BENCH_PGBENCH_TRANSACTIONS", "200"))
PGBENCH_CLIENTS = 20
LIST_REQUESTS = int(os.environ.get("BENCH_LIST_REQUESTS", "30"))
SECRET = "bench-secret-key-not-for-production-0123456789-abcdefghijklmnop"
APP_NAME = "studyhall-bench"
RECAP = {
    "topics_covered": "Limits and continuity, with three worked examples of the squeeze theorem.",
    "tutee_progress": "The student solved the last two problems alone and explained each step.",
    "next_steps": "Practice the odd problems in section 2.3 before our next meeting.",
}

os.environ.update(
    {
        "DATABASE_URL": DB_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "SECURE_COOKIES": "0",
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
)
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench import crash as crash_run  # noqa: E402
from bench import load, seed  # noqa: E402
from studyhall.accounts.models import User  # noqa: E402
from studyhall.accounts.tokens import issue_token  # noqa: E402
from studyhall.testing import servers  # noqa: E402
from studyhall.tutoring.models import Completion  # noqa: E402

ENV = {
    "DATABASE_URL": DB_URL,
    "REDIS_URL": REDIS_URL,
    "DEBUG": "0",
    "SECRET_KEY": SECRET,
    "SECURE_COOKIES": "0",
    "LOG_LEVEL": "WARNING",
    "PGAPPNAME": APP_NAME,
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "STUDYHALL_DB_POOL_SIZE": str(POOL_SIZE),
    # As the README's production recipe and scripts/serve.sh run it.
    "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2"),
}


@dataclass
class Row:
    name: str
    values: list[float]
    unit: str = ""
    note: str = ""

    def line(self) -> str:
        if not self.values:
            return f"{self.name:<58} (none) {self.note}"
        lo, mid, hi = min(self.values), statistics.median(self.values), max(self.values)
        return f"{self.name:<58} {lo:>10.3f} {mid:>10.3f} {hi:>10.3f} {self.unit:<8} {self.note}"


@dataclass
class Context:
    base: str
    server: servers.Site
    data: dict[str, Any]
    tokens: dict[str, str]
    cookies: dict[str, str]
    workdir: Path
    ready: list[int] = field(default_factory=list)
    peak_connections: int = 0
    pgbench_first: int = 0


def psql(*args: str, db: str = "postgres") -> str:
    url = DB_URL.rsplit("/", 1)[0] + f"/{db}"
    return subprocess.run(
        ["psql", url, "-Atc", *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def db_name() -> str:
    return DB_URL.rsplit("/", 1)[1]


def server_connections() -> int:
    return int(psql(f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{APP_NAME}'"))


@contextmanager
def connection_sampler(ctx: Context) -> Iterator[None]:
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            ctx.peak_connections = max(ctx.peak_connections, server_connections())
            time.sleep(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def bearer(ctx: Context, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.tokens[who]}"}


# -- measures -------------------------------------------------------------------------------


def completion_sql(ctx: Context) -> tuple[str, int]:
    """The statements one HTTP completion runs, captured in-process, as a pgbench script that
    completes a random ready session and rolls back (so it can repeat)."""
    client = Client()

    def complete(session_id: int) -> None:
        response = client.post(
            f"/api/v1/sessions/{session_id}/complete",
            data=json.dumps({"minutes": 55, "recap": RECAP}),
            content_type="application/json",
            headers=bearer(ctx, "completer"),
        )
        assert response.status_code == 200, response.content

    complete(ctx.ready.pop())  # the first completion creates the accounts; a steady one does not
    session_id = ctx.ready.pop()
    with CaptureQueriesContext(connection) as queries:
        complete(session_id)
    statements = [
        q["sql"]
        for q in queries.captured_queries
        # One transaction around it all, rolled back so the script can repeat.
        if q["sql"] not in {"BEGIN", "COMMIT"}
        and not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    transfer_id = Completion.objects.get(session_id=session_id).earning_id
    new_transfer = "currval(pg_get_serial_sequence('ledger_transfer', 'id'))"

    def generalized(sql: str) -> str:
        # The ids this completion created become the ones pgbench's own inserts create.
        sql = re.sub(
            rf"'\{{{transfer_id},{transfer_id}\}}'::int\d\[\]",
            f"ARRAY[{new_transfer}, {new_transfer}]",
            sql,
        )
        if sql.startswith('INSERT INTO "django_tasks_database_dbtaskresult"'):
            # Each enqueued task (the recap notices) needs an id of its own.
            sql = re.sub(r"'[0-9a-f-]{32,36}'::uuid", "gen_random_uuid()", sql, count=1)
        if sql.startswith('INSERT INTO "tutoring_completion"'):
            # (..., hourly_rate_cents, earning_id, completed_by_id, on_behalf_reason, ...)
            sql = re.sub(rf", {transfer_id}, (\d+), '", rf", {new_transfer}, \1, '", sql)
        return with_session_variable(sql, session_id)

    # pgbench completes sessions that HTTP never will (it takes them from the other end), and
    # commits each, as HTTP does (a rolled-back transaction skips the commit's WAL flush). A
    # client takes the ids first + its number + clients x (its transactions so far): pgbench
    # keeps each client's variables from one transaction to the next.
    needed = REPS * PGBENCH_CLIENTS * PGBENCH_TRANSACTIONS
    reserved, ctx.ready[:] = ctx.ready[:needed], ctx.ready[needed:]
    if reserved != list(range(reserved[0], reserved[0] + needed)):
        raise RuntimeError(
            f"pgbench needs {needed:,} consecutive ready sessions; seed again with a larger "
            "BENCH_COMPLETABLE"
        )
    body = "\n".join(generalized(s) + ";" for s in statements)
    script = (
        f"\\set sid :first + :client_id + :clients * :n\n\\set n :n + 1\nBEGIN;\n{body}\nCOMMIT;\n"
    )
    (ROOT / "var" / "bench-completion.sql").write_text(script)
    ctx.pgbench_first = reserved[0]
    return script, len(statements)


def with_session_variable(sql: str, session_id: int) -> str:
    """The statement for pgbench's `:sid`. pgbench substitutes variables only outside quotes,
    so an id inside a literal (the earning's idempotency key `'earning:session:42'`) becomes a
    concatenation; left as it was, every pgbench client would insert the same key and wait on
    the others' unique-index entry, a queue the HTTP completions never join."""
    own = re.compile(rf"\b{session_id}\b")
    parts = re.split(r"('(?:[^']|'')*')", sql)
    for i, part in enumerate(parts):
        if i % 2 == 0:
            parts[i] = own.sub(":sid", part)
        elif own.search(part):
            parts[i] = "(" + own.sub("' || :sid || '", part) + ")"
    return "".join(parts)


def pgbench(script: str, *, first: int, workdir: Path) -> load.Result:
    """PGBENCH_CLIENTS clients, PGBENCH_TRANSACTIONS each, on the sessions from `first`."""
    path = workdir / "completion.sql"
    path.write_text(script)
    for old in workdir.glob("pgbench_log.*"):
        old.unlink()
    url = DB_URL.replace("postgres://", "postgresql://", 1)
    clients = PGBENCH_CLIENTS
    run = subprocess.run(
        [
            "pgbench",
            "-n",
            "-c",
            str(clients),
            "-j",
            "2",
            "-t",
            str(PGBENCH_TRANSACTIONS),
            "-D",
            "n=0",
            "-D",
            f"first={first}",
            "-D",
            f"clients={clients}",
            "-l",
            "-f",
            str(path),
            url,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0 or "aborted" in run.stderr:
        raise RuntimeError(f"pgbench failed:\n{run.stderr[-3000:]}")
    tps = re.search(r"^tps = ([0-9.]+)", run.stdout, re.MULTILINE)
    if tps is None:
        raise RuntimeError(f"pgbench printed no rate:\n{run.stdout[-3000:]}")
    result = load.Result()
    for log in workdir.glob("pgbench_log.*"):
        for line in log.read_text().splitlines():
            parts = line.split()
            result.latencies.append(int(parts[2]) / 1e6)
    result.seconds = result.count / float(tps.group(1))
    # Its completions enqueued recap tasks like any other; nothing here is meant to send
    # them, and left queued they would stand ahead of the crash measure's in the task worker.
    last = first + clients * PGBENCH_TRANSACTIONS - 1
    psql(
        "DELETE FROM django_tasks_database_dbtaskresult WHERE status = 'READY' AND "
        f"(args_kwargs->'kwargs'->>'session_id')::bigint BETWEEN {first} AND {last}",
        db=db_name(),
    )
    return result


def completions(ctx: Context) -> list[Row]:
    script, statements = completion_sql(ctx)
    rows = {
        k: Row(k, [], u)
        for k, u in [
            ("completions/s over HTTP at 20 clients", "per s"),
            ("completions/s of pgbench, same SQL, 20 clients", "per s"),
            ("ratio HTTP / pgbench (goal >= 0.25)", ""),
            ("HTTP completion p50 at 20 clients", "ms"),
            ("HTTP completion p95 at 20 clients", "ms"),
            ("HTTP completion p99 at 20 clients", "ms"),
            ("pgbench p95 at 20 clients", "ms"),
            ("HTTP p95 / pgbench p95 (goal <= 2)", ""),
            ("HTTP completion p95 at 1 client (goal < 50)", "ms"),
            ("errors (5xx or no answer) at 20 clients", ""),
        ]
    }
    rows["completions/s over HTTP at 20 clients"].note = f"{statements} statements each"
    for rep in range(REPS):

        def complete(http: load.Http, n: int, ready: list[int] = ctx.ready) -> load.Reply | None:
            if not ready:
                return None
            return http.post(
                f"/api/v1/sessions/{ready.pop()}/complete",
                json={"minutes": 55, "recap": RECAP},
                headers=bearer(ctx, "completer"),
            )

        with connection_sampler(ctx):
            http = load.run(ctx.base, complete, clients=20, seconds=LOAD_SECONDS)
        single = load.run(ctx.base, complete, clients=1, total=40)
        first = ctx.pgbench_first + rep * PGBENCH_CLIENTS * PGBENCH_TRANSACTIONS
        bench = pgbench(script, first=first, workdir=ctx.workdir)
        rows["completions/s over HTTP at 20 clients"].values.append(http.rate)
        rows["completions/s of pgbench, same SQL, 20 clients"].values.append(bench.rate)
        rows["ratio HTTP / pgbench (goal >= 0.25)"].values.append(http.rate / bench.rate)
        for p in (50, 95, 99):
            rows[f"HTTP completion p{p} at 20 clients"].values.append(http.percentile(p) * 1000)
        rows["pgbench p95 at 20 clients"].values.append(bench.percentile(95) * 1000)
        rows["HTTP p95 / pgbench p95 (goal <= 2)"].values.append(
            http.percentile(95) / bench.percentile(95)
        )
        rows["HTTP completion p95 at 1 client (goal < 50)"].values.append(
            single.percentile(95) * 1000
        )
        rows["errors (5xx or no answer) at 20 clients"].values.append(http.errors)
        non_200 = {s: n for s, n in http.statuses.items() if s != 200}
        if non_200:
            rows["errors (5xx or no answer) at 20 clients"].note = f"non-200: {non_200}"
    return list(rows.values())


def lists(ctx: Context) -> list[Row]:
    rows: list[Row] = []
    targets = [
        ("Sessions tab", lambda who: {"Cookie": f"sessionid={ctx.cookies[who]}"}, "/sessions/"),
        ("GET /api/v1/sessions", lambda who: bearer(ctx, who), "/api/v1/sessions"),
    ]
    for name, headers, path in targets:
        medians: dict[str, list[float]] = {"big": [], "small": []}
        for _ in range(REPS):
            for who in ("big", "small"):
                result = load.run(
                    ctx.base,
                    lambda http, n, who=who, path=path, headers=headers: http.get(
                        path, headers=headers(who)
                    ),
                    clients=1,
                    total=LIST_REQUESTS,
                )
                assert result.statuses == {200: LIST_REQUESTS}, result.statuses
                medians[who].append(result.median * 1000)
        rows.append(Row(f"{name} p50, tutor with 10,000 sessions", medians["big"], "ms"))
        rows.append(Row(f"{name} p50, tutor with 100 sessions", medians["small"], "ms"))
        rows.append(
            Row(
                f"{name} 10,000 / 100 (goal <= 1.3)",
                [b / s for b, s in zip(medians["big"], medians["small"], strict=True)],
            )
        )
    return rows


def console_lists(ctx: Context) -> list[Row]:
    """The org admin's Sessions and People lists: an organization with 10,000 of each beside
    one with 100, page one, each as its own admin."""
    console = ctx.data["console"]
    rows: list[Row] = []
    for name, path in (("Console sessions", "sessions/"), ("Console people", "people/")):
        medians: dict[str, list[float]] = {"big": [], "small": []}
        for _ in range(REPS):
            for size in ("big", "small"):
                url = f"/console/{console[size]['org']}/{path}"
                cookie = {"Cookie": f"sessionid={ctx.cookies['console-' + size]}"}

                def get(
                    http: load.Http, n: int, url: str = url, cookie: dict[str, str] = cookie
                ) -> load.Reply:
                    return http.get(url, headers=cookie)

                result = load.run(ctx.base, get, clients=1, total=LIST_REQUESTS)
                assert result.statuses == {200: LIST_REQUESTS}, result.statuses
                medians[size].append(result.median * 1000)
        rows.append(Row(f"{name} p50, 10,000 rows", medians["big"], "ms"))
        rows.append(Row(f"{name} p50, 100 rows", medians["small"], "ms"))
        rows.append(
            Row(
                f"{name} 10,000 / 100 (goal <= 1.3)",
                [b / s for b, s in zip(medians["big"], medians["small"], strict=True)],
            )
        )
    return rows


def reminder_tick(ctx: Context) -> list[Row]:
    from studyhall.tutoring.reminders import send_due_reminders

    send_due_reminders()  # the first tick sends what is due; the steady ones follow
    statements, seconds = (
        Row("steady reminder tick: statements (goal < 20)", []),
        Row("steady reminder tick: seconds", [], "s"),
    )
    for _ in range(REPS):
        with CaptureQueriesContext(connection) as queries:
            started = time.monotonic()
            send_due_reminders()
            seconds.values.append(time.monotonic() - started)
        statements.values.append(len(queries.captured_queries))
    statements.note = f"{ctx.data['sessions']:,} sessions in the database"
    return [statements, seconds]


def errors_at_50(ctx: Context) -> list[Row]:
    row = Row("errors (5xx or no answer) at 50 clients", [])
    for _ in range(REPS):

        def mixed(http: load.Http, n: int) -> load.Reply:
            if n % 2:
                return http.get("/api/v1/me/balance", headers=bearer(ctx, "small"))
            return http.get("/sessions/", headers={"Cookie": f"sessionid={ctx.cookies['small']}"})

        with connection_sampler(ctx):
            result = load.run(ctx.base, mixed, clients=50, seconds=LOAD_SECONDS)
        row.values.append(result.errors)
        row.note = f"{result.count} requests, {result.rate:.0f}/s, statuses {result.statuses}"
    return [row]


def rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker_pid(master: int) -> int:
    """The one worker process a gunicorn master of one worker has started."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn {master} started no worker")


def worker_rss(ctx: Context) -> list[Row]:
    """One worker (a one-worker server of the same configuration) over RSS_REQUESTS."""
    log = ctx.workdir / "rss-server.log"
    with servers.running(servers.gunicorn_command(workers=1), env=ENV, log=log) as server:
        pid = worker_pid(server.process.pid)
        samples: list[float] = []
        step = max(RSS_REQUESTS // 20, 1)
        paths = [
            ("/api/v1/me/balance", "small"),
            ("/api/v1/sessions", "small"),
            ("/sessions/", "small"),
        ]

        def mixed(http: load.Http, n: int) -> load.Reply:
            path, who = paths[n % len(paths)]
            if n % step == 0:
                samples.append(rss(pid))
            if path.startswith("/api/"):
                return http.get(path, headers=bearer(ctx, who))
            return http.get(path, headers={"Cookie": f"sessionid={ctx.cookies[who]}"})

        result = load.run(server.base, mixed, clients=8, total=RSS_REQUESTS)
        samples.append(rss(pid))
    half = samples[len(samples) // 2 :]
    return [
        Row(
            f"one worker's RSS after {result.count:,} requests (goal < 150)",
            [samples[-1]],
            "MB",
            f"start {samples[0]:.0f} MB, errors {result.errors}",
        ),
        Row("RSS trend over the last half (end - middle)", [half[-1] - half[0]], "MB"),
    ]


def connections_held(ctx: Context) -> list[Row]:
    limit = WORKERS * POOL_SIZE
    return [
        Row(
            f"PostgreSQL connections held, peak (goal <= {WORKERS} x {POOL_SIZE})",
            [ctx.peak_connections],
            note=f"max_connections {psql('SHOW max_connections')}, limit {limit}",
        )
    ]


def server_choice(ctx: Context) -> list[Row]:
    """The same app under uvicorn (ASGI) and under a threaded WSGI server, for the choice of
    HTTP server (docs/adr/0010). Each candidate is a fresh server of WORKERS workers on the
    same database and pool, and the repetitions take turns (A, B, C, A, B, C, ...), so neither
    meets the tables grown by the other's completions more than the other does."""
    candidates = {
        "uvicorn (ASGI)": servers.uvicorn_command(workers=WORKERS),
        f"gunicorn --threads {POOL_SIZE} (WSGI, config/gunicorn.py)": servers.gunicorn_command(
            workers=WORKERS
        ),
        "gunicorn --threads 8 (WSGI)": servers.gunicorn_command(workers=WORKERS, threads=8),
    }
    rates = {name: {"completions": [], "p95": [], "balance": []} for name in candidates}

    def balance(h: load.Http, n: int) -> load.Reply:
        return h.get("/api/v1/me/balance", headers=bearer(ctx, "small"))

    def complete(h: load.Http, n: int) -> load.Reply | None:
        if not ctx.ready:
            return None
        return h.post(
            f"/api/v1/sessions/{ctx.ready.pop()}/complete",
            json={"minutes": 55, "recap": RECAP},
            headers=bearer(ctx, "completer"),
        )

    with contextlib.ExitStack() as stack:
        started = {}
        for i, (name, command) in enumerate(candidates.items()):
            log = ctx.workdir / f"choice-{i}.log"
            started[name] = stack.enter_context(servers.running(command, env=ENV, log=log))
            load.run(started[name].base, balance, clients=4, total=40, timeout=120)
        for _ in range(REPS):
            for name, server in started.items():
                done = load.run(server.base, complete, clients=20, seconds=LOAD_SECONDS / 2)
                rates[name]["completions"].append(done.rate)
                rates[name]["p95"].append(done.percentile(95) * 1000)
                read = load.run(server.base, balance, clients=20, seconds=LOAD_SECONDS / 2)
                rates[name]["balance"].append(read.rate)
    rows = []
    for name, measured in rates.items():
        rows.append(Row(f"{name}: completions/s at 20 clients", measured["completions"], "per s"))
        rows.append(Row(f"{name}: completion p95 at 20 clients", measured["p95"], "ms"))
        rows.append(Row(f"{name}: GET /api/v1/me/balance/s at 20", measured["balance"], "per s"))
    return rows


def crash(ctx: Context) -> list[Row]:
    """kill -9 of every process under a load of completions (see bench/crash.py)."""
    from studyhall.ledger.integrity import ledger_breaches
    from studyhall.ledger.models import Transfer, TransferKind
    from studyhall.notifications.models import Kind, Notification
    from studyhall.tutoring.integrity import correction_breaches, earning_breaches
    from studyhall.tutoring.models import ON_SESSION, Participant

    ids = [ctx.ready.pop() for _ in range(min(crash_run.COMPLETIONS, len(ctx.ready)))]
    # The other measures' completions enqueued recap tasks that no task worker was meant to
    # run (as pgbench's are dropped, above). Left queued, thousands of them would stand ahead
    # of this measure's own in its task worker and outlast its drain.
    psql("DELETE FROM django_tasks_database_dbtaskresult WHERE status = 'READY'", db=db_name())

    def verify(session_ids: list[int]) -> crash_run.Outcome:
        completed = Counter(
            Completion.objects.filter(session_id__in=session_ids).values_list(
                "session_id", flat=True
            )
        )
        earnings = Counter(
            Transfer.objects.filter(
                kind=TransferKind.EARNING, session_id__in=session_ids
            ).values_list("session_id", flat=True)
        )
        students = set(
            Participant.objects.filter(
                session_id__in=session_ids, state__in=ON_SESSION
            ).values_list("session_id", "user_id")
        )
        notices = Counter(
            Notification.objects.filter(kind=Kind.RECAP, session_id__in=session_ids).values_list(
                "session_id", "user_id"
            )
        )
        breaches = [*ledger_breaches(), *earning_breaches(), *correction_breaches()]
        return crash_run.Outcome(
            sessions=len(session_ids),
            kills=0,
            completed_once=sum(1 for pk in session_ids if completed[pk] == 1),
            earnings_not_once=sum(1 for pk in session_ids if earnings[pk] != 1),
            recap_notices_missing=sum(1 for pair in students if notices[pair] == 0),
            recap_notices_doubled=sum(1 for pair in students if notices[pair] > 1),
            ledger_breaches=len(breaches),
            seconds=0.0,
        )

    outcome = crash_run.run(
        base_port=servers.free_port(),
        env={**ENV, "STUDYHALL_TASK_LEASE_SECONDS": "30"},
        workers=WORKERS,
        log=ctx.workdir / "crash.log",
        session_ids=ids,
        headers=bearer(ctx, "completer"),
        body={"minutes": 55, "recap": RECAP},
        verify=verify,
    )
    note = f"of {outcome.sessions} sessions, {outcome.kills} rounds of kill -9"
    return [
        Row("crash: sessions completed exactly once", [outcome.completed_once], "", note),
        Row("crash: sessions without exactly one earning (goal 0)", [outcome.earnings_not_once]),
        Row("crash: recap notices missing (goal 0)", [outcome.recap_notices_missing]),
        Row("crash: recap notices sent twice (goal 0)", [outcome.recap_notices_doubled]),
        Row("crash: check_ledger breaches (goal 0)", [outcome.ledger_breaches]),
        Row("crash: completions answered while the kills went on", [outcome.answered_during_kills]),
        Row("crash: tasks a killed worker held, queued again", [outcome.tasks_requeued]),
        Row("crash: wall time", [outcome.seconds], "s"),
    ]


def export_memory(ctx: Context) -> list[Row]:
    """sessions.csv of the whole organization (100,000 sessions), streamed in this process:
    its rows, its time and the most memory it held at once (tracemalloc's peak)."""
    import gc
    import tracemalloc

    from studyhall.feeds.exports import EXPORTS
    from studyhall.orgs.models import Organization

    organization = Organization.objects.get(name="Bench College")
    rows = Row("sessions.csv export: rows", [])
    seconds = Row("sessions.csv export: seconds", [], "s")
    peak = Row("sessions.csv export: peak memory held (bounded)", [], "MB")
    for _ in range(REPS):
        gc.collect()
        tracemalloc.start()
        started = time.monotonic()
        try:
            count = sum(1 for _ in EXPORTS["sessions"].lines(organization))
            _, most = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        seconds.values.append(time.monotonic() - started)
        rows.values.append(count - 1)
        peak.values.append(most / 2**20)
    peak.note = "tracemalloc, in the benchmark's own process"
    return [rows, seconds, peak]


MEASURES: list[Callable[[Context], list[Row]]] = [
    completions,
    lists,
    console_lists,
    reminder_tick,
    errors_at_50,
    worker_rss,
    connections_held,
    server_choice,
    export_memory,
    crash,
]


def prepare() -> dict[str, Any]:
    print(f"== database {db_name()}: migrate and seed", flush=True)
    psql(f"DROP DATABASE IF EXISTS {db_name()} WITH (FORCE)")
    psql(f"CREATE DATABASE {db_name()}")
    call_command("migrate", interactive=False, verbosity=0)
    started = time.monotonic()
    data = seed.seed(completable=int(os.environ.get("BENCH_COMPLETABLE", "30000")))
    data["console"] = seed.seed_console()
    print(f"   seeded {data['sessions']:,} sessions in {time.monotonic() - started:.0f} s")
    psql("VACUUM ANALYZE", db=db_name())
    return data


def seeded() -> dict[str, Any]:
    """The data of an earlier run's seed (BENCH_REUSE=1 skips seeding)."""
    from studyhall.tutoring.models import Session, Status

    completer = User.objects.get(email="tutor2@bench.test")
    return {
        "big": "tutor0@bench.test",
        "small": "tutor1@bench.test",
        "completer": completer.email,
        "sessions": Session.objects.count(),
        "ready": list(
            Session.objects.filter(tutor=completer, status=Status.SCHEDULED)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        "console": seed.seeded_console(),
    }


def main() -> None:
    data = seeded() if os.environ.get("BENCH_REUSE") == "1" else prepare()
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    tokens = {
        who: issue_token(request=None, email=data[who], password=seed.PASSWORD)
        for who in ("big", "small", "completer")
    }
    cookies = {}
    logins = {who: data[who] for who in ("big", "small")}
    logins.update({f"console-{size}": c["admin"] for size, c in data["console"].items()})
    for who, email in logins.items():
        browser = Client()
        browser.force_login(User.objects.get(email=email))
        cookies[who] = browser.cookies["sessionid"].value
    with tempfile.TemporaryDirectory(prefix="studyhall-bench-") as tmp:
        workdir = Path(tmp)
        command = servers.gunicorn_command(workers=WORKERS)
        print(
            f"== servers: {' '.join(command[2:])} (and uvicorn for /ws/), pool {POOL_SIZE}, "
            "Redis, DEBUG=0",
            flush=True,
        )
        with servers.site(env=ENV, logdir=workdir, workers=WORKERS) as server:
            ctx = Context(server.base, server, data, tokens, cookies, workdir, list(data["ready"]))
            # Each worker's first requests pay its imports.
            load.run(
                server.base,
                lambda h, n: h.get("/api/v1/me/balance", headers=bearer(ctx, "small")),
                clients=4,
                total=40,
                timeout=120,
            )
            print(f"\n{'measure':<58} {'min':>10} {'median':>10} {'max':>10}")
            for measure in MEASURES:
                if only and measure.__name__ not in only:
                    continue
                for row in measure(ctx):
                    print(row.line(), flush=True)
            if "Traceback" in server.log_text():
                print("\nThe server logged errors:\n" + server.log_text()[-5000:])


if __name__ == "__main__":
    main()
