"""The classroom WebSocket: presence, WebRTC signalling, chat and live captions for one
session's call.

Every inbound frame is validated; signals are relayed only to the addressed peer of the same
session's room. Rooms are channel-layer groups, so with Redis they span server processes.
Captions are text a participant's own browser recognized from their speech; the consumer
checks and relays them to the room with the speaker's name and keeps nothing.
Close codes: 4403 not allowed in this classroom, 4400 malformed connection.
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from studyhall.calls import services
from studyhall.calls.broadcast import room
from studyhall.core.errors import DomainError, Forbidden
from studyhall.core.text import clean_text, collapse_whitespace
from studyhall.tutoring.models import Session

MAX_FRAME_CHARS = 64 * 1024
CHAT_MAX_CHARS = 1000
CAPTION_MAX_CHARS = 500
# At most this many caption frames per connection in any window of that many seconds: the page
# sends each finished phrase and, between them, what is being said at most once a second.
CAPTION_BURST = 10
CAPTION_WINDOW_SECONDS = 5.0
SIGNAL_KINDS = {"offer", "answer", "candidate"}
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_REQUEST = 4400


class FrameError(ValueError):
    pass


# channels ships no type hints, so its base class is Any to mypy.
class ClassroomConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    session_id: int
    peer_id: str | None = None
    left_on_purpose = False
    caption_times: deque[float]

    async def connect(self) -> None:
        # Accept first: a close before accepting reaches the browser as a failed handshake
        # with no code, and the page could not tell "not allowed" from "server down".
        await self.accept()
        user = self.scope.get("user")
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        self.caption_times = deque(maxlen=CAPTION_BURST)
        query = dict(
            part.split("=", 1)
            for part in self.scope.get("query_string", b"").decode().split("&")
            if "=" in part
        )
        try:
            joined = await database_sync_to_async(services.join)(
                session_id=self.session_id,
                user=user,
                peer_id=query.get("peer", ""),
                channel_name=self.channel_name,
            )
        except Session.DoesNotExist:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        except DomainError as exc:
            await self.refuse(exc)
            return
        self.peer_id = joined.connection.peer_id
        await self.channel_layer.group_add(room(self.session_id), self.channel_name)
        await self.send_json(
            {
                "type": "welcome",
                "peer_id": self.peer_id,
                "user_id": user.pk,
                "reconnected": joined.reconnected,
                "heartbeat_seconds": services.HEARTBEAT_SECONDS,
                "ice_servers": settings.STUDYHALL_ICE_SERVERS,
            }
        )
        await self.broadcast_roster()

    async def disconnect(self, code: int) -> None:
        if self.peer_id is None:
            return
        await self.channel_layer.group_discard(room(self.session_id), self.channel_name)
        # A deliberate close (Leave call, a closed tab) is a leave now; a dropped network
        # (1006) keeps the seat until the presence timeout, so a quick reconnect is seamless.
        if self.left_on_purpose or code in (1000, 1001):
            await database_sync_to_async(services.leave)(
                peer_id=self.peer_id, channel_name=self.channel_name
            )
            await self.broadcast_roster()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.peer_id is None:
            return
        try:
            if text_data is None or len(text_data) > MAX_FRAME_CHARS:
                raise FrameError("Frames are JSON text of at most 64 KiB.")
            try:
                frame = json.loads(text_data)
            except json.JSONDecodeError as exc:
                raise FrameError("That frame is not valid JSON.") from exc
            await self.handle_frame(frame)
        except FrameError as exc:
            await self.send_json({"type": "error", "message": str(exc)})

    async def handle_frame(self, frame: Any) -> None:
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise FrameError("A frame is a JSON object with a string 'type'.")
        kind = frame["type"]
        if kind == "heartbeat":
            await self.heartbeat()
        elif kind == "signal":
            await self.relay_signal(frame)
        elif kind == "chat":
            await self.relay_chat(frame)
        elif kind == "caption":
            await self.relay_caption(frame)
        elif kind == "media":
            audio, video = frame.get("audio"), frame.get("video")
            if not isinstance(audio, bool) or not isinstance(video, bool):
                raise FrameError("A media frame has boolean 'audio' and 'video'.")
            await database_sync_to_async(services.set_media)(
                peer_id=self.peer_id, audio=audio, video=video
            )
            await self.broadcast_roster()
        elif kind == "leave":
            self.left_on_purpose = True
            await self.close(code=1000)
        else:
            raise FrameError(f"Unknown frame type {kind[:40]!r}.")

    async def heartbeat(self) -> None:
        assert self.peer_id is not None
        alive = await database_sync_to_async(services.heartbeat)(peer_id=self.peer_id)
        try:
            if alive:
                refusal = await database_sync_to_async(services.stay_or_refusal)(
                    session_id=self.session_id, user=self.user, peer_id=self.peer_id
                )
                if refusal is not None:
                    raise Forbidden(refusal, code="classroom_closed")
            else:
                # Expired while silent (a sleeping laptop): rejoin under the same peer id.
                await database_sync_to_async(services.join)(
                    session_id=self.session_id,
                    user=self.user,
                    peer_id=self.peer_id,
                    channel_name=self.channel_name,
                )
        except DomainError as exc:
            await database_sync_to_async(services.expire)(session_id=self.session_id)
            await self.broadcast_roster()
            await self.refuse(exc)
            return
        if await database_sync_to_async(services.expire)(session_id=self.session_id) or not alive:
            await self.broadcast_roster()
        await self.send_json({"type": "heartbeat_ack"})

    async def refuse(self, exc: DomainError) -> None:
        await self.send_json({"type": "refused", "code": exc.code, "message": exc.message})
        await self.close(code=CLOSE_FORBIDDEN if exc.http_status == 403 else CLOSE_BAD_REQUEST)

    async def relay_signal(self, frame: dict[str, Any]) -> None:
        to, signal_kind, payload = frame.get("to"), frame.get("kind"), frame.get("payload")
        if not isinstance(to, str) or not services.PEER_ID.match(to) or to == self.peer_id:
            raise FrameError("A signal needs 'to': another participant's peer id.")
        if signal_kind not in SIGNAL_KINDS:
            raise FrameError("A signal's 'kind' is offer, answer or candidate.")
        if not isinstance(payload, dict):
            raise FrameError("A signal's 'payload' is an object.")
        if signal_kind in ("offer", "answer") and not isinstance(payload.get("sdp"), str):
            raise FrameError("An offer or answer carries its 'sdp' text.")
        # Straight to the addressed tab's channel (no fan-out to the whole room), and only if
        # that tab is in this session's call.
        target = await database_sync_to_async(services.channel_of)(
            session_id=self.session_id, peer_id=to
        )
        if target is None:
            raise FrameError("That participant is not in this call.")
        await self.channel_layer.send(
            target,
            {
                "type": "deliver.signal",
                "from": self.peer_id,
                "to": to,
                "kind": signal_kind,
                "payload": payload,
            },
        )

    async def relay_chat(self, frame: dict[str, Any]) -> None:
        text = frame.get("text")
        if not isinstance(text, str):
            raise FrameError("A chat message has 'text'.")
        try:
            text = clean_text(text, field="Message", max_length=CHAT_MAX_CHARS)
        except DomainError as exc:
            raise FrameError(exc.message) from exc
        if not text:
            raise FrameError("Type a message first.")
        await self.channel_layer.group_send(
            room(self.session_id),
            {
                "type": "deliver.chat",
                "from": self.peer_id,
                "name": self.user.display_name,
                "text": text,
                "at": timezone.now().isoformat(),
            },
        )

    async def relay_caption(self, frame: dict[str, Any]) -> None:
        text, final = frame.get("text"), frame.get("final")
        if not isinstance(text, str) or not isinstance(final, bool):
            raise FrameError("A caption has 'text' and a boolean 'final'.")
        try:
            text = collapse_whitespace(
                clean_text(text, field="Caption", max_length=CAPTION_MAX_CHARS)
            )
        except DomainError as exc:
            raise FrameError(exc.message) from exc
        if not text:
            raise FrameError("A caption needs some text.")
        now = time.monotonic()
        times = self.caption_times
        if len(times) == CAPTION_BURST and now - times[0] < CAPTION_WINDOW_SECONDS:
            raise FrameError(
                f"Captions are coming faster than {CAPTION_BURST} every "
                f"{CAPTION_WINDOW_SECONDS:g} seconds; this one was not shown."
            )
        times.append(now)
        # Relayed, never stored: a caption lives only on the screens of those in the call.
        await self.channel_layer.group_send(
            room(self.session_id),
            {
                "type": "deliver.caption",
                "from": self.peer_id,
                "name": self.user.display_name,
                "text": text,
                "final": final,
            },
        )

    async def broadcast_roster(self) -> None:
        await self.channel_layer.group_send(room(self.session_id), {"type": "deliver.roster"})

    # -- messages from the room (channel layer) ------------------------------------------

    async def deliver_signal(self, message: dict[str, Any]) -> None:
        if message["to"] == self.peer_id:
            await self.send_json(
                {
                    "type": "signal",
                    "from": message["from"],
                    "kind": message["kind"],
                    "payload": message["payload"],
                }
            )

    async def deliver_chat(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {k: message[k] for k in ("from", "name", "text", "at")} | {"type": "chat"}
        )

    async def deliver_caption(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {k: message[k] for k in ("from", "name", "text", "final")} | {"type": "caption"}
        )

    async def deliver_roster(self, message: dict[str, Any]) -> None:
        # Each member reads the shared presence table, so every process agrees on the room.
        await self.send_json({"type": "roster", "peers": await self.roster()})

    async def deliver_ended(self, message: dict[str, Any]) -> None:
        self.left_on_purpose = True
        await self.send_json({"type": "ended", "message": message["message"]})
        await self.close(code=1000)

    @database_sync_to_async  # type: ignore[untyped-decorator]  # channels ships no type hints
    def roster(self) -> list[dict[str, Any]]:
        session = Session.objects.only("tutor_id").get(pk=self.session_id)
        return [
            {
                "peer_id": c.peer_id,
                "user_id": c.user_id,
                "name": c.user.display_name,
                "role": "tutor" if c.user_id == session.tutor_id else "student",
                "audio": c.audio,
                "video": c.video,
            }
            for c in services.live_connections(self.session_id)
        ]
