"""Streamed downloads that stay streamed under ASGI.

Django's ASGI handler serves a `StreamingHttpResponse` over a plain (sync) iterator by first
reading the whole iterator into a list (it warns "must consume synchronous iterators"), so a
100,000-session export would sit in a worker's memory before its first byte left. Under ASGI
the response gets an async iterator instead, which pulls a batch of lines at a time on the
request's own thread (`thread_sensitive`, the thread that holds its database connection and
cursor). Under WSGI and in the test client the plain iterator is served as it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from itertools import islice

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest

# Lines per hop to the request's thread: few hops, and a batch of CSV lines is small.
BATCH_LINES = 500


def streaming_content(
    request: HttpRequest, lines: Iterator[str]
) -> Iterator[str] | AsyncIterator[str]:
    """What to give a StreamingHttpResponse for `lines`, served the way `request` came."""
    if isinstance(request, ASGIRequest):
        return _pulled(lines)
    return lines


def _next_batch(lines: Iterator[str]) -> str:
    return "".join(islice(lines, BATCH_LINES))


async def _pulled(lines: Iterator[str]) -> AsyncIterator[str]:
    take = sync_to_async(_next_batch, thread_sensitive=True)
    while chunk := await take(lines):
        yield chunk
