"""The support chat's WebSocket: messages pushed live to the user and to agents.

Messages are sent over HTTP (the same path the polling fallback uses); the socket only
receives, plus two small frames from the browser: `heartbeat` (the chat is open, for the
"replied while you were away" email) and `seen` (the panel shows every message).

A user's sockets join their own group only; agents' sockets also join the agents' group. So a
conversation's messages reach its user and Support, and nobody else. Close codes: 4403 not
signed in.
"""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from studyhall.accounts.models import User
from studyhall.support import selectors
from studyhall.support.broadcast import AGENTS_GROUP, user_group
from studyhall.support.services import chat

CLOSE_FORBIDDEN = 4403
MAX_FRAME_CHARS = 1024
HEARTBEAT_SECONDS = 60


class FrameError(ValueError):
    pass


# channels ships no type hints, so its base class is Any to mypy.
class SupportChatConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    user: User
    joined: tuple[str, ...] = ()

    async def connect(self) -> None:
        # Accept first: a close before accepting reaches the browser as a failed handshake
        # with no code, and the page could not tell "not allowed" from "server down".
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        groups = [user_group(user.pk)]
        if user.is_support_agent:
            groups.append(AGENTS_GROUP)
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = tuple(groups)
        unread = await database_sync_to_async(self._arrive)()
        await self.send_json(
            {
                "type": "welcome",
                "user_id": user.pk,
                "agent": user.is_support_agent,
                "unread": unread,
                "heartbeat_seconds": HEARTBEAT_SECONDS,
            }
        )

    def _arrive(self) -> int:
        chat.touch_presence(user=self.user)
        return 0 if self.user.is_support_agent else selectors.unread_count(self.user)

    async def disconnect(self, code: int) -> None:
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = ()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.joined:
            return
        try:
            if text_data is None or len(text_data) > MAX_FRAME_CHARS:
                raise FrameError("Frames are JSON text of at most 1 KiB.")
            try:
                frame = json.loads(text_data)
            except json.JSONDecodeError as exc:
                raise FrameError("That frame is not valid JSON.") from exc
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                raise FrameError("A frame is a JSON object with a string 'type'.")
            await self.handle(frame["type"])
        except FrameError as exc:
            await self.send_json({"type": "error", "message": str(exc)})

    async def handle(self, kind: str) -> None:
        if kind == "heartbeat":
            await database_sync_to_async(chat.touch_presence)(user=self.user)
            await self.send_json({"type": "heartbeat_ack"})
        elif kind == "seen":
            if not self.user.is_support_agent:
                await database_sync_to_async(chat.mark_read)(actor=self.user)
            await self.send_json({"type": "unread", "count": 0})
        else:
            raise FrameError(f"Unknown frame type {kind[:40]!r}.")

    # -- events from the channel layer (studyhall.support.broadcast) ---------------------------

    async def support_message(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])

    async def support_conversation(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])
