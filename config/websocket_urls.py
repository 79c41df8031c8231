"""WebSocket routes. Each real-time feature adds its consumer here."""

from studyhall.calls.routing import websocket_urlpatterns as classroom_ws
from studyhall.support.routing import websocket_urlpatterns as support_ws

websocket_urlpatterns = [*classroom_ws, *support_ws]
