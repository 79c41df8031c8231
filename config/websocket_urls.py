"""WebSocket routes. Each real-time feature adds its consumer here."""

from studyhall.calls.routing import websocket_urlpatterns as classroom_ws

websocket_urlpatterns = [*classroom_ws]
