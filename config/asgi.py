"""ASGI entry point: Django for HTTP, Channels for WebSockets, in one uvicorn process."""

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler

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
    """Django's ASGI handler, with the middleware chain and the view run synchronously, as
    one call on the request's thread.

    Django's own handler builds the chain in async mode: our sync-only middleware and the
    sync views then cost a hop from the event loop to a thread, back, and out again for every
    request (and an async-capable middleware's hooks run through a thread each). Every view
    here is sync, so the whole request goes to its thread once. The thread is the one Django
    already gives each request (`ThreadSensitiveContext`), the one that closes the response
    and hands the database connection back to the pool (docs/adr/0010).

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

    async def get_response_async(self, request: Any) -> Any:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


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
