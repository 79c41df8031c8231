"""Messages pushed to everyone in a classroom from outside the WebSocket (e.g. a page view)."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

ENDED_MESSAGE = "The tutor completed the session."


def room(session_id: int) -> str:
    """The channel-layer group of a session's classroom (spans processes with Redis)."""
    return f"classroom.{session_id}"


def announce_call_ended(session_id: int, message: str = ENDED_MESSAGE) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            room(session_id), {"type": "deliver.ended", "message": message}
        )
