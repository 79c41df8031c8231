"""The support chat's WebSocket, driven through its ASGI application: who may connect, that a
conversation's messages reach its user and the agents and nobody else, the unread count, "seen",
heartbeats and frame validation. Each test gets a fresh in-memory channel layer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from channels.routing import URLRouter
from django.contrib.auth.models import AnonymousUser
from django.db import connections
from django.test import Client

from config.websocket_urls import websocket_urlpatterns
from conftest import Cast
from studyhall.accounts.models import User
from studyhall.support import selectors
from studyhall.support.models import ChatPresence
from studyhall.support.services import chat

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ROUTER = URLRouter(websocket_urlpatterns)
PATH = "/ws/support/chat/"


class WebsocketCommunicator(ApplicationCommunicator):
    """The interface of `channels.testing.WebsocketCommunicator`, which cannot be imported:
    that package imports its live-server test case, which needs daphne (django/channels#1942),
    and Studyhall serves with uvicorn."""

    def __init__(
        self, application: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None
    ):
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "path": path,
            "query_string": b"",
            "headers": headers or [],
            "subprotocols": [],
        }
        super().__init__(application, self.scope)

    async def connect(self, timeout: float = 1) -> tuple[bool, int | str | None]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept"
        return True, response.get("subprotocol")

    async def send_text(self, text: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self.send_input({"type": "websocket.receive", "bytes": data})

    async def receive_json_from(self, timeout: float = 1) -> Any:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", f"expected a frame, got {response}"
        return json.loads(response["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


@pytest.fixture(autouse=True)
def _fresh_channel_layer(settings: Any) -> None:
    # A new setting drops the cached layer, so no group outlives its test (and these tests
    # stay in memory even when REDIS_URL is set).
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest_asyncio.fixture(autouse=True)
async def _close_worker_connections() -> AsyncIterator[None]:
    yield
    await sync_to_async(connections.close_all)()


async def open_socket(user: User | AnonymousUser | None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(ROUTER, PATH)
    if user is not None:
        communicator.scope["user"] = user
    assert await communicator.connect() == (True, None)
    return communicator


async def welcomed(user: User) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    socket = await open_socket(user)
    welcome = await socket.receive_json_from()
    assert welcome["type"] == "welcome"
    return socket, welcome


async def quiet(*sockets: WebsocketCommunicator) -> bool:
    results = await asyncio.gather(*(s.receive_nothing(timeout=0.2) for s in sockets))
    return all(results)


post_user_message = sync_to_async(chat.post_user_message)
post_agent_reply = sync_to_async(chat.post_agent_reply)


async def test_messages_reach_their_user_and_the_agents_only(cast: Cast, agent2: User) -> None:
    maya, welcome = await welcomed(cast.student)
    assert welcome == {
        "type": "welcome",
        "user_id": cast.student.pk,
        "agent": False,
        "unread": 0,
        "heartbeat_seconds": 60,
    }
    maya_tab2, _ = await welcomed(cast.student)
    tutor, _ = await welcomed(cast.tutor)
    admin, _ = await welcomed(cast.admin)
    outsider, _ = await welcomed(cast.outsider)
    agent, agent_welcome = await welcomed(cast.agent)
    assert agent_welcome["agent"] is True
    other_agent, _ = await welcomed(agent2)

    sent = await post_user_message(actor=cast.student, body="My session is not listed.")
    expected = {
        "type": "message",
        "id": sent.pk,
        "conversation": sent.conversation_id,
        "user_id": cast.student.pk,
        "author_id": cast.student.pk,
        "author": "Maya Chen",
        "from_agent": False,
        "text": "My session is not listed.",
        "at": sent.created_at.isoformat(),
    }
    for socket in (maya, maya_tab2, agent, other_agent):
        assert await socket.receive_json_from() == expected
    assert await quiet(tutor, admin, outsider)

    reply = await post_agent_reply(
        actor=cast.agent, conversation_id=sent.conversation_id, body="Which course?"
    )
    for socket in (maya, maya_tab2, agent, other_agent):
        frame = await socket.receive_json_from()
        assert (frame["id"], frame["from_agent"], frame["author"], frame["text"]) == (
            reply.pk,
            True,
            "Sue Support",
            "Which course?",
        )
    assert await quiet(tutor, admin, outsider)

    # The tutor's own conversation is not Maya's business.
    await post_user_message(actor=cast.tutor, body="Hello from Tess")
    assert (await tutor.receive_json_from())["text"] == "Hello from Tess"
    assert (await agent.receive_json_from())["text"] == "Hello from Tess"
    assert (await other_agent.receive_json_from())["text"] == "Hello from Tess"
    assert await quiet(maya, maya_tab2, admin, outsider)

    for socket in (maya, maya_tab2, tutor, admin, outsider, agent, other_agent):
        await socket.disconnect()


async def test_closing_a_conversation_is_announced_to_its_user_and_agents(cast: Cast) -> None:
    sent = await post_user_message(actor=cast.student, body="Thanks, all sorted.")
    maya, _ = await welcomed(cast.student)
    tutor, _ = await welcomed(cast.tutor)
    agent, _ = await welcomed(cast.agent)
    await sync_to_async(chat.close_conversation)(
        actor=cast.agent, conversation_id=sent.conversation_id
    )
    frame = {
        "type": "conversation",
        "conversation": sent.conversation_id,
        "user_id": cast.student.pk,
        "status": "closed",
        "assigned_to": None,
    }
    assert await maya.receive_json_from() == frame
    assert await agent.receive_json_from() == frame
    assert await quiet(tutor)
    for socket in (maya, tutor, agent):
        await socket.disconnect()


async def test_the_welcome_counts_unread_replies_and_seen_clears_them(cast: Cast) -> None:
    sent = await post_user_message(actor=cast.student, body="Hi")
    await post_agent_reply(actor=cast.agent, conversation_id=sent.conversation_id, body="One")
    await post_agent_reply(actor=cast.agent, conversation_id=sent.conversation_id, body="Two")
    maya, welcome = await welcomed(cast.student)
    assert welcome["unread"] == 2
    await maya.send_text(json.dumps({"type": "seen"}))
    assert await maya.receive_json_from() == {"type": "unread", "count": 0}
    assert await sync_to_async(selectors.unread_count)(cast.student) == 0
    await maya.disconnect()


async def test_connecting_and_heartbeats_mark_the_user_present(cast: Cast) -> None:
    tutor, _ = await welcomed(cast.tutor)
    first = await sync_to_async(ChatPresence.objects.get)(user=cast.tutor)
    await tutor.send_text(json.dumps({"type": "heartbeat"}))
    assert await tutor.receive_json_from() == {"type": "heartbeat_ack"}
    assert (await sync_to_async(ChatPresence.objects.get)(user=cast.tutor)).last_seen_at >= (
        first.last_seen_at
    )
    await tutor.disconnect()


@pytest.mark.parametrize("user", [None, "anonymous"])
async def test_signed_out_sockets_are_closed(db: None, user: str | None) -> None:
    socket = await open_socket(AnonymousUser() if user else None)
    message = await socket.receive_output()
    assert (message["type"], message["code"]) == ("websocket.close", 4403)
    await socket.disconnect(code=4403)


async def test_through_the_real_application_with_a_login(cast: Cast) -> None:
    from config.asgi import application

    client = Client()
    await sync_to_async(client.force_login)(cast.tutor)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    socket = WebsocketCommunicator(
        application, PATH, [(b"cookie", cookie), (b"origin", b"http://127.0.0.1:8000")]
    )
    assert await socket.connect() == (True, None)
    welcome = await socket.receive_json_from()
    assert (welcome["type"], welcome["user_id"]) == ("welcome", cast.tutor.pk)
    await socket.disconnect()
    # Another site's page cannot use the tutor's cookie.
    evil = WebsocketCommunicator(
        application, PATH, [(b"cookie", cookie), (b"origin", b"https://evil.example")]
    )
    connected, _ = await evil.connect()
    assert not connected


BAD_FRAMES: dict[str, tuple[str | bytes, str]] = {
    "not-json": ("{'type'", "That frame is not valid JSON."),
    "a-list": ("[1]", "A frame is a JSON object with a string 'type'."),
    "no-type": ('{"text": "hi"}', "A frame is a JSON object with a string 'type'."),
    "numeric-type": ('{"type": 1}', "A frame is a JSON object with a string 'type'."),
    "unknown-type": ('{"type": "message"}', "Unknown frame type 'message'."),
    "too-long": (
        json.dumps({"type": "seen", "pad": "a" * 2000}),
        "Frames are JSON text of at most 1 KiB.",
    ),
    "binary": (b'{"type": "seen"}', "Frames are JSON text of at most 1 KiB."),
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(cast: Cast, name: str) -> None:
    data, message = BAD_FRAMES[name]
    tutor, _ = await welcomed(cast.tutor)
    agent, _ = await welcomed(cast.agent)
    if isinstance(data, bytes):
        await tutor.send_bytes(data)
    else:
        await tutor.send_text(data)
    assert await tutor.receive_json_from() == {"type": "error", "message": message}
    assert await quiet(tutor, agent)
    await tutor.send_text(json.dumps({"type": "heartbeat"}))
    assert await tutor.receive_json_from() == {"type": "heartbeat_ack"}
    await tutor.disconnect()
    await agent.disconnect()
