from django.urls import path

from studyhall.support.consumers import SupportChatConsumer

websocket_urlpatterns = [
    path("ws/support/chat/", SupportChatConsumer.as_asgi()),
]
