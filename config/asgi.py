"""ASGI entry point: Django for HTTP, Channels for WebSockets, in one uvicorn process."""

import os
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class OneHopASGIHandler(ASGIHandler):
    """Django's ASGI handler, with the middleware chain and the view run synchronously, as
    one call on the request's thread.

    Django's own handler builds the chain in async mode: our sync-only middleware and the
    sync views then cost a hop from the event loop to a thread, back, and out again for every
    request (and an async-capable middleware's hooks run through a thread each). Every view
    here is sync, so the whole request goes to its thread once. The thread is the one Django
    already gives each request (`ThreadSensitiveContext`), the one that closes the response
    and hands the database connection back to the pool (docs/adr/0010)."""

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
