"""The ASGI handler runs each request's sync code on one thread, kept for later requests:
the same thread opens and finishes a request (where the database connection is handed back),
requests at once get threads of their own, and a thread still busy is not handed out."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.http import StreamingHttpResponse

from config.asgi import OneHopASGIHandler, RequestThread

PATH = "/api/v1/openapi.json"


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _exchange(
    handler: OneHopASGIHandler, path: str = PATH, *, leave: asyncio.Event | None = None
) -> list[dict[str, Any]]:
    """One request through the handler; the messages it sent. The client leaves when `leave`
    is set (else it stays until the response is sent)."""
    sent: list[dict[str, Any]] = []
    body_given = False
    gone = leave or asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal body_given
        if not body_given:
            body_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await handler(_scope(path), receive, send)
    return sent


async def _get(handler: OneHopASGIHandler, path: str = PATH) -> int:
    sent = await _exchange(handler, path)
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


class Streaming(OneHopASGIHandler):
    """Answers every request with a stream: two parts, then (with `hang`) nothing more, or
    (with `fail`) an error after the first."""

    def __init__(self, *, hang: asyncio.Event | None = None, fail: bool = False) -> None:
        super().__init__()
        self.hang = hang
        self.fail = fail

    def get_response(self, request: Any) -> Any:
        async def parts() -> Any:
            yield b"first,"
            if self.hang is not None:
                self.hang.set()
                await asyncio.Event().wait()
            if self.fail:
                raise RuntimeError("the stream broke")
            yield b"second"

        return StreamingHttpResponse(parts())


@pytest.fixture
def threads_seen() -> Any:
    seen: dict[str, list[int]] = {"started": [], "finished": []}

    def started(**kwargs: Any) -> None:
        seen["started"].append(threading.get_ident())

    def finished(**kwargs: Any) -> None:
        seen["finished"].append(threading.get_ident())

    request_started.connect(started, dispatch_uid="test-threads-started")
    request_finished.connect(finished, dispatch_uid="test-threads-finished")
    yield seen
    request_started.disconnect(dispatch_uid="test-threads-started")
    request_finished.disconnect(dispatch_uid="test-threads-finished")


def test_one_request_after_another_runs_on_one_kept_thread(threads_seen: Any) -> None:
    handler = OneHopASGIHandler()

    async def three() -> list[int]:
        return [await _get(handler) for _ in range(3)]

    assert asyncio.run(three()) == [200, 200, 200]
    assert len(set(threads_seen["started"])) == 1
    assert threads_seen["finished"] == threads_seen["started"]
    assert threading.get_ident() not in threads_seen["started"]
    assert len(handler._idle_threads) == 1


def test_requests_at_once_each_get_a_thread_of_their_own(threads_seen: Any) -> None:
    handler = OneHopASGIHandler()
    # Each request waits, on its thread, until all three have started: on one shared thread
    # they could not, and the barrier would break.
    barrier = threading.Barrier(3, timeout=10)

    def wait_for_the_others(**kwargs: Any) -> None:
        barrier.wait()

    request_started.connect(wait_for_the_others, dispatch_uid="test-threads-barrier")
    try:

        async def at_once() -> list[int]:
            return list(await asyncio.gather(*(_get(handler) for _ in range(3))))

        assert asyncio.run(at_once()) == [200, 200, 200]
    finally:
        request_started.disconnect(dispatch_uid="test-threads-barrier")
    assert len(set(threads_seen["started"])) == 3
    assert sorted(threads_seen["finished"]) == sorted(threads_seen["started"])
    assert len(handler._idle_threads) == 3


def test_a_thread_still_running_something_is_not_idle() -> None:
    thread = RequestThread()
    assert thread.idle
    release = threading.Event()
    running = thread.submit(release.wait, 10)
    assert not thread.idle
    release.set()
    assert running.result(timeout=10) is True
    assert thread.idle
    thread.shutdown()


def test_a_response_in_memory_is_closed_on_its_thread_before_it_is_sent(
    threads_seen: Any,
) -> None:
    order: list[str] = []

    def finished(**kwargs: Any) -> None:
        order.append("finished")

    request_finished.connect(finished, dispatch_uid="test-threads-order")
    try:
        sent = asyncio.run(_exchange(OneHopASGIHandler()))
    finally:
        request_finished.disconnect(dispatch_uid="test-threads-order")
    order += [m["type"] for m in sent]
    assert order[:2] == ["finished", "http.response.start"]
    assert sent[0]["status"] == 200 and sent[-1]["more_body"] is False
    assert threads_seen["finished"] == threads_seen["started"]


def test_a_stream_is_sent_whole_then_closed_on_the_requests_thread(threads_seen: Any) -> None:
    sent = asyncio.run(_exchange(Streaming()))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert body == b"first,second"
    assert sent[-1] == {"type": "http.response.body"}
    assert len(threads_seen["finished"]) == 1
    assert threads_seen["finished"] == threads_seen["started"]


def test_a_stream_stops_when_the_client_leaves_and_is_still_closed(threads_seen: Any) -> None:
    async def leave_midway() -> list[dict[str, Any]]:
        hang, leave = asyncio.Event(), asyncio.Event()
        exchange = asyncio.create_task(_exchange(Streaming(hang=hang), leave=leave))
        await hang.wait()
        leave.set()
        return await asyncio.wait_for(exchange, timeout=10)

    sent = asyncio.run(leave_midway())
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert body == b"first,"
    assert threads_seen["finished"] == threads_seen["started"]
    assert len(threads_seen["finished"]) == 1


def test_a_stream_that_breaks_is_still_closed_on_its_thread(threads_seen: Any) -> None:
    with pytest.raises(RuntimeError, match="the stream broke"):
        asyncio.run(_exchange(Streaming(fail=True)))
    assert len(threads_seen["finished"]) == 1
    assert threads_seen["finished"] == threads_seen["started"]
