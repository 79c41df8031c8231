"""Pushing Support's chat to open sockets, through channel-layer groups so that with Redis it
reaches sockets on any server process.

Each user's sockets share the group `support.user.<id>`; every agent's sockets also join
`support.agents`. A conversation's events go to its own user's group and to the agents, never
to anyone else.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from studyhall.support.models import Conversation, Message

AGENTS_GROUP = "support.agents"


def user_group(user_id: int) -> str:
    return f"support.user.{user_id}"


def message_frame(message: Message, conversation: Conversation) -> dict[str, Any]:
    """What a socket receives for one message (the browser writes it with textContent)."""
    return {
        "type": "message",
        "id": message.pk,
        "conversation": conversation.pk,
        "user_id": conversation.user_id,
        "author_id": message.author_id,
        "author": message.author_name,
        "from_agent": message.from_agent,
        "text": message.body,
        "at": message.created_at.isoformat(),
    }


def conversation_frame(conversation: Conversation) -> dict[str, Any]:
    return {
        "type": "conversation",
        "conversation": conversation.pk,
        "user_id": conversation.user_id,
        "status": conversation.status,
        "assigned_to": conversation.assigned_to.display_name if conversation.assigned_to else None,
    }


def _send(user_id: int | None, event: str, frame: dict[str, Any]) -> None:
    """To the conversation's user (a visitor has no socket) and to the agents."""
    layer = get_channel_layer()
    if layer is None:
        return
    groups = [AGENTS_GROUP] if user_id is None else [user_group(user_id), AGENTS_GROUP]
    for group in groups:
        async_to_sync(layer.group_send)(group, {"type": event, "frame": frame})


def after_commit_message(message: Message, conversation: Conversation) -> None:
    frame = message_frame(message, conversation)

    def push() -> None:
        _send(conversation.user_id, "support.message", frame)

    transaction.on_commit(push, robust=True)


def after_commit_conversation(conversation: Conversation) -> None:
    frame = conversation_frame(conversation)

    def push() -> None:
        _send(conversation.user_id, "support.conversation", frame)

    transaction.on_commit(push, robust=True)
