"""Messages pushed to everyone in a classroom from outside the WebSocket (e.g. a page view)."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from studyhall.calls.consumers import room

ENDED_MESSAGE = "The tutor completed the session."


def announce_call_ended(session_id: int, message: str = ENDED_MESSAGE) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            room(session_id), {"type": "deliver.ended", "message": message}
        )


def announce_roster_changed(session_id: int) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(room(session_id), {"type": "deliver.roster"})
