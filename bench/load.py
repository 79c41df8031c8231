"""A small closed-loop load generator: N client threads, each sending its next request when
the previous one answered, bounded by a count or a duration. Loopback only.

Each client is one keep-alive connection through the standard library's `http.client`. The
clients share the server's two cores, so what they cost is taken from the server: a request
through httpx cost the client about 1.4 ms of CPU, through `http.client` about a fifth of
that (pgbench's clients, in C, cost next to nothing)."""

from __future__ import annotations

import http.client
import json as jsonlib
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


class LoadError(Exception):
    """No answer: the connection failed, closed or timed out."""


@dataclass(frozen=True)
class Reply:
    status_code: int
    content: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class Http:
    """One keep-alive connection to the server, opened again after it fails."""

    def __init__(self, base: str, *, timeout: float) -> None:
        parts = urlsplit(base)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def get(self, path: str, *, headers: Mapping[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def post(
        self, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        return self.request("POST", path, json=json, headers=headers)

    def request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        sent = dict(headers or {})
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout
            )
        try:
            self._connection.request(method, path, body=body, headers=sent)
            response = self._connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise LoadError(f"{method} {path}: {exc!r}") from exc
        if response.will_close:
            self.close()
        return Reply(response.status, content)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Request = Callable[[Http, int], Reply | None]


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0  # connection errors and timeouts
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return self.failures + sum(n for s, n in self.statuses.items() if s >= 500)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")


def run(
    base: str,
    request: Request,
    *,
    clients: int,
    seconds: float | None = None,
    total: int | None = None,
    timeout: float = 30.0,
) -> Result:
    """`request(client, n)` sends the n-th request (None: nothing left to send)."""
    assert seconds is not None or total is not None
    result = Result()
    lock = threading.Lock()
    counter = iter(range(10**12))
    deadline = time.monotonic() + seconds if seconds is not None else float("inf")

    def next_number() -> int | None:
        with lock:
            n = next(counter)
        return None if total is not None and n >= total else n

    def client() -> None:
        with Http(base, timeout=timeout) as client_http:
            while time.monotonic() < deadline:
                n = next_number()
                if n is None:
                    return
                started = time.monotonic()
                try:
                    response = request(client_http, n)
                except LoadError:
                    with lock:
                        result.failures += 1
                    continue
                if response is None:
                    return
                took = time.monotonic() - started
                with lock:
                    result.latencies.append(took)
                    result.statuses[response.status_code] = (
                        result.statuses.get(response.status_code, 0) + 1
                    )

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    return result
