"""WebSocket routes. Each real-time feature adds its consumer here."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
