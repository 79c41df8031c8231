from django.conf import settings
from django.http import HttpRequest


def websocket(request: HttpRequest) -> dict[str, object]:
    """The port browsers open their WebSockets on, when it is not the page's own (base.html
    says it in a meta tag, which the classroom and the chat read)."""
    return {"websocket_port": settings.STUDYHALL_WEBSOCKET_PORT}
