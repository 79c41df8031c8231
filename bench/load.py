"""A small closed-loop load generator: N client threads, each sending its next request when
the previous one answered, bounded by a count or a duration. Loopback only."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

Request = Callable[[httpx.Client, int], httpx.Response | None]


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
        with httpx.Client(base_url=base, timeout=timeout, trust_env=False) as http:
            while time.monotonic() < deadline:
                n = next_number()
                if n is None:
                    return
                started = time.monotonic()
                try:
                    response = request(http, n)
                except httpx.HTTPError:
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
