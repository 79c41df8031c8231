"""ASGI entry point: Django for HTTP, Channels for WebSockets, in one uvicorn process."""

import asyncio
import contextlib
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

T = TypeVar("T")


class RequestThread(ThreadPoolExecutor):
    """The one thread a request's sync code runs on, kept for a later request."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="request")
        self._last: Future[Any] | None = None

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future = super().submit(fn, *args, **kwargs)
        self._last = future
        return future

    @property
    def idle(self) -> bool:
        """Nothing submitted is still to finish (one thread: the last done means all are).
        A view still running for a client that went away is not waited for."""
        return self._last is None or self._last.done()


class OneHopASGIHandler(ASGIHandler):
    """Django's ASGI handler, with everything sync about a request run as one call on the
    request's thread.

    Django's own handler builds the middleware chain in async mode, so our sync-only
    middleware and sync views cost hops between the event loop and a thread; and around the
    view it hops to the thread twice more, to send `request_started` and, once the response
    is out, to close it. Every view here is sync, so a request goes to its thread once: the
    started signal, the request, the chain and the view, and for a response already in memory
    its close (which sends `request_finished` and hands the database connection back to the
    pool) before its bytes are sent. A streaming response (an export, a static file) is sent
    as Django sends it — stopped if the client leaves — and closed on the same thread after.
    The thread is the request's own (`ThreadSensitiveContext`), so the connection the view
    used is the one handed back (docs/adr/0010).

    That thread is not started for the request and joined after it, as Django's handler
    does: a request takes an idle one (a single-thread executor that outlived its last
    request) and gives it back when its response is sent, as a threaded WSGI server keeps
    its threads. There are never more than the most requests the worker has served at once.
    A thread still busy (a view running on for a client that left) is let go instead.
    """

    def __init__(self) -> None:
        super().__init__()
        # Touched only on the event loop's thread.
        self._idle_threads: list[RequestThread] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP here, not {scope['type']}.")
        idle = self._idle_threads
        thread = idle.pop() if idle else RequestThread()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            if thread.idle:
                idle.append(thread)
            else:
                thread.shutdown(wait=False)

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            set_script_prefix(get_script_prefix(scope))
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            if response.streaming:
                await self._stream(response, receive, send)
            else:
                await self.send_response(response, send)
        finally:
            body_file.close()

    def _respond(self, scope: Any, body_file: Any) -> Any:
        """On the request's thread: the response, closed unless it streams."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        assert response is not None  # create_request gives a request or a response
        if not response.streaming:
            response.close()
        return response

    async def _stream(self, response: Any, receive: Any, send: Any) -> None:
        """Send a streaming response until it ends or the client leaves, then close it on
        the request's thread."""
        sending = asyncio.create_task(self.send_response(response, send))
        listening = asyncio.create_task(self.listen_for_disconnect(receive))
        try:
            await asyncio.wait([sending, listening], return_when=asyncio.FIRST_COMPLETED)
            for task in (sending, listening):
                if not task.done():
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError, RequestAborted):
                    await task
        finally:
            # Even when the stream failed: closing hands the connection back to the pool.
            await sync_to_async(response.close, thread_sensitive=True)()


# Django must be set up before anything imports models (the WebSocket routes do).
django.setup(set_prefix=False)
django_asgi_app = OneHopASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.websocket_urls import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
