"""The crash measure: completions under load while every server and worker process is killed
with SIGKILL every few seconds, then restarted. Afterwards each session must be completed and
paid exactly once, each student must have exactly one recap notice, and `check_ledger` must
pass. Killing with -9 leaves no chance to clean up: whatever a process held in memory (an
`on_commit` callback, a claimed task) is gone, so only what was committed survives.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from studyhall.testing import servers

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("BENCH_CRASH_ROUNDS", "12"))
COMPLETIONS = int(os.environ.get("BENCH_CRASH_COMPLETIONS", "600"))
KILL_EVERY = float(os.environ.get("BENCH_CRASH_KILL_EVERY", "4"))
CLIENTS = 12
DRAIN_SECONDS = 300.0


@dataclass
class Outcome:
    sessions: int
    kills: int
    completed_once: int
    earnings_not_once: int
    recap_notices_missing: int
    recap_notices_doubled: int
    ledger_breaches: int
    seconds: float
    answered_during_kills: int = 0
    tasks_requeued: int = 0


class Processes:
    """gunicorn (several workers), the task worker and the scheduler, each in its own process
    group so that one killpg takes down a server and all of its worker processes at once."""

    def __init__(self, *, port: int, env: Mapping[str, str], workers: int, log: Path) -> None:
        self.port, self.env, self.workers, self.log = port, dict(env), workers, log
        self.running: list[subprocess.Popen[bytes]] = []

    def commands(self) -> list[list[str]]:
        py = sys.executable
        web = servers.gunicorn_command(workers=self.workers)
        return [
            [part.format(port=self.port, python=py) for part in web],
            [py, "manage.py", "db_worker", "--queue-name", "default", "--interval", "0.2"],
            [py, "manage.py", "run_scheduler", "--interval", "2"],
        ]  # fmt: skip

    def start(self) -> None:
        env = {**os.environ, **self.env}
        with self.log.open("ab") as out:
            self.running = [
                subprocess.Popen(
                    argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                for argv in self.commands()
            ]  # fmt: skip

    def kill(self) -> None:
        for process in self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.running:
            process.wait()
        self.running = []


def wait_until_answering(base: str, *, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    with httpx.Client(base_url=base, timeout=5, trust_env=False) as http:
        while time.monotonic() < deadline:
            try:
                http.get("/accounts/login/")
                return
            except httpx.HTTPError:
                time.sleep(0.2)
    raise RuntimeError(f"the server at {base} did not answer within {within:.0f} s")


def wait_for(condition: Callable[[], bool], *, seconds: float = DRAIN_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


def run(
    *,
    base_port: int,
    env: Mapping[str, str],
    workers: int,
    log: Path,
    session_ids: list[int],
    headers: Mapping[str, str],
    body: Mapping[str, object],
    verify: Callable[[list[int]], Outcome],
) -> Outcome:
    todo: queue.Queue[int] = queue.Queue()
    for pk in session_ids:
        todo.put(pk)
    answered: dict[int, int] = {}
    lock = threading.Lock()
    base = f"http://127.0.0.1:{base_port}"
    done = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=base, timeout=10, trust_env=False) as http:
            while not done.is_set():
                try:
                    pk = todo.get(timeout=0.5)
                except queue.Empty:
                    continue
                try:
                    response = http.post(
                        f"/api/v1/sessions/{pk}/complete", json=body, headers=dict(headers)
                    )
                except httpx.HTTPError:
                    todo.put(pk)  # the server died under us: try again when it is back
                    time.sleep(0.2)
                    continue
                if response.status_code >= 500:
                    todo.put(pk)
                    time.sleep(0.2)
                    continue
                with lock:
                    # 200, or 4xx "already completed" when an earlier try committed but its
                    # answer was lost with the killed worker.
                    answered[pk] = response.status_code

    processes = Processes(port=base_port, env=env, workers=workers, log=log)
    started = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    kills = 0
    try:
        for _ in range(ROUNDS):
            # Each round: the servers come up, take load for a few seconds, and die at once.
            processes.start()
            wait_until_answering(base)
            time.sleep(KILL_EVERY)
            processes.kill()
            kills += 1
        answered_during_kills = len(answered)
        processes.start()
        wait_for(lambda: len(answered) == len(session_ids))
        done.set()
        for thread in threads:
            thread.join(timeout=15)
        # The worker (and the scheduler's requeue of tasks a killed worker held) catches up.
        drain_until = time.monotonic() + DRAIN_SECONDS
        outcome = verify(session_ids)
        while outcome.recap_notices_missing and time.monotonic() < drain_until:
            time.sleep(2)
            outcome = verify(session_ids)
    finally:
        processes.kill()
    outcome.kills = kills
    outcome.answered_during_kills = answered_during_kills
    outcome.tasks_requeued = sum(
        int(line.split()[1])
        for line in log.read_text(errors="replace").splitlines()
        if line.startswith("Requeued ")
    )
    outcome.seconds = time.monotonic() - started
    return outcome
