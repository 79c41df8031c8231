"""Streamed downloads under ASGI are pulled a batch at a time, never read whole first."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Iterator

from django.http import StreamingHttpResponse
from django.test import AsyncRequestFactory, RequestFactory

from studyhall.core.streaming import BATCH_LINES, streaming_content


class Lines:
    """CSV-like lines, counting how many were taken."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.taken = 0

    def __iter__(self) -> Iterator[str]:
        for n in range(self.total):
            self.taken += 1
            yield f"{n},row\r\n"


def test_under_asgi_the_first_chunk_leaves_after_one_batch() -> None:
    source = Lines(BATCH_LINES * 3 + 7)
    content = streaming_content(AsyncRequestFactory().get("/"), iter(source))
    response = StreamingHttpResponse(content)
    assert response.is_async

    async def first_then_rest() -> tuple[bytes, int, list[bytes]]:
        chunks: AsyncIterator[bytes] = response.__aiter__()
        first = await chunks.__anext__()
        taken_after_first = source.taken
        rest = [chunk async for chunk in chunks]
        return first, taken_after_first, rest

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when it has to read a sync iterator whole
        first, taken_after_first, rest = asyncio.run(first_then_rest())
    assert taken_after_first == BATCH_LINES
    assert first == "".join(f"{n},row\r\n" for n in range(BATCH_LINES)).encode()
    assert len(rest) == 3
    body = first + b"".join(rest)
    assert body == "".join(f"{n},row\r\n" for n in range(source.total)).encode()


def test_under_wsgi_the_iterator_is_served_as_it_is() -> None:
    lines = iter(["a\r\n", "b\r\n"])
    assert streaming_content(RequestFactory().get("/"), lines) is lines


def test_an_empty_export_under_asgi_sends_nothing() -> None:
    content = streaming_content(AsyncRequestFactory().get("/"), iter([]))
    response = StreamingHttpResponse(content)

    async def everything() -> list[bytes]:
        return [chunk async for chunk in response]

    assert asyncio.run(everything()) == []
