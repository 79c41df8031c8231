from django.urls import path

from studyhall.calls.consumers import ClassroomConsumer

websocket_urlpatterns = [
    path("ws/sessions/<int:session_id>/classroom/", ClassroomConsumer.as_asgi()),
]
