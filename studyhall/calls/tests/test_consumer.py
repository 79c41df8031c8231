"""The classroom WebSocket, driven through its ASGI application: who may connect, frame
validation, relay only within a room and only to the addressed peer, presence (join, leave,
drop and timeout with a frozen clock), the session status following the call, reconnects and
the end of a call. Each test gets a fresh in-memory channel layer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
import time_machine
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import connections
from django.test import Client
from django.utils import timezone

from config.websocket_urls import websocket_urlpatterns
from conftest import Cast
from studyhall.accounts.models import User
from studyhall.calls import consumers, services
from studyhall.calls.broadcast import announce_call_ended
from studyhall.calls.models import CallEvent, Connection, EventKind
from studyhall.testing import factories as f
from studyhall.tutoring.models import Mode, ParticipantState, Session, Status
from studyhall.tutoring.services.scheduling import remove_participant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

# The consumer behind the URL routes, with the user put straight into the scope. One test goes
# through config.asgi.application (origin check, cookie, session, auth) with a real login.
ROUTER = URLRouter(websocket_urlpatterns)

TUTOR_PEER = "tutor-peer-0001"
MAYA_PEER = "maya-peer-0001"
SAM_PEER = "sam-peer-00001"
B_TUTOR_PEER = "otto-peer-0001"
B_STUDENT_PEER = "bstudent-peer-01"

NOT_ALLOWED = "Only the tutor and students who accepted the session can join its classroom."


@pytest.fixture(autouse=True)
def _fresh_channel_layer(settings: Any) -> None:
    # Changing the setting drops the cached layer, so no group outlives its test (and the
    # consumer tests stay in memory even when REDIS_URL is set in the environment).
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest_asyncio.fixture(autouse=True)
async def _close_worker_connections() -> AsyncIterator[None]:
    yield
    # Consumers reach the database from asgiref's worker thread. On PostgreSQL its connection
    # would outlive the test and keep the test database from being dropped at the end.
    await sync_to_async(connections.close_all)()


@pytest.fixture
def room_b(cast: Cast) -> Session:
    """Another online session at the same time: the other tutor with Sam, accepted."""
    return f.make_session(
        org=cast.org,
        tutor=cast.other_tutor,
        students=[cast.student2],
        mode=Mode.ONLINE,
        start=timezone.now(),
    )


@pytest.fixture
def everyone_accepted(cast: Cast) -> Session:
    """An online session starting now with Maya and Sam both accepted."""
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        mode=Mode.ONLINE,
        start=timezone.now(),
    )


def socket(
    session_id: int, user: User | AnonymousUser | None, peer: str | None
) -> WebsocketCommunicator:
    path = f"/ws/sessions/{session_id}/classroom/"
    if peer is not None:
        path += f"?peer={peer}"
    communicator = WebsocketCommunicator(ROUTER, path)
    if user is not None:
        communicator.scope["user"] = user
    return communicator


async def enter(session: Session, user: User, peer: str) -> tuple[WebsocketCommunicator, list[str]]:
    """Connect, check the welcome, and return the socket with the peer ids of its first roster."""
    communicator = socket(session.pk, user, peer)
    assert await communicator.connect() == (True, None)
    welcome = await communicator.receive_json_from()
    assert welcome == {
        "type": "welcome",
        "peer_id": peer,
        "user_id": user.pk,
        "reconnected": False,
        "heartbeat_seconds": services.HEARTBEAT_SECONDS,
        "ice_servers": [],
    }
    return communicator, await roster_of(communicator)


async def roster_of(communicator: WebsocketCommunicator) -> list[str]:
    frame = await communicator.receive_json_from()
    assert frame["type"] == "roster", frame
    return [peer["peer_id"] for peer in frame["peers"]]


async def closed_with(communicator: WebsocketCommunicator) -> int:
    """The code of the close the server sends next (after which the server disconnects)."""
    message = await communicator.receive_output()
    assert message["type"] == "websocket.close", message
    code = int(message["code"])
    await communicator.disconnect(code=code)
    return code


async def quiet(*communicators: WebsocketCommunicator) -> bool:
    """True when none of them has anything to read (each gets the same short window)."""
    results = await asyncio.gather(*(c.receive_nothing(timeout=0.2) for c in communicators))
    return all(results)


@sync_to_async
def db_state(session: Session) -> tuple[str, datetime | None, datetime | None]:
    session.refresh_from_db()
    return session.status, session.call_started_at, session.call_ended_at


@sync_to_async
def connected_peers() -> list[str]:
    return sorted(Connection.objects.values_list("peer_id", flat=True))


@sync_to_async
def events() -> list[tuple[str, str]]:
    return list(CallEvent.objects.order_by("at", "id").values_list("peer_id", "kind"))


# -- who may connect ---------------------------------------------------------------------------


async def test_the_tutor_and_an_accepted_student_connect_and_see_each_other(
    cast: Cast, online: Session
) -> None:
    tutor, first = await enter(online, cast.tutor, TUTOR_PEER)
    assert first == [TUTOR_PEER]
    maya, both = await enter(online, cast.student, MAYA_PEER)
    assert both == [TUTOR_PEER, MAYA_PEER]
    roster = await tutor.receive_json_from()
    assert roster == {
        "type": "roster",
        "peers": [
            {
                "peer_id": TUTOR_PEER,
                "user_id": cast.tutor.pk,
                "name": "Tess Tutor",
                "role": "tutor",
                "audio": True,
                "video": True,
            },
            {
                "peer_id": MAYA_PEER,
                "user_id": cast.student.pk,
                "name": "Maya Chen",
                "role": "student",
                "audio": True,
                "video": True,
            },
        ],
    }
    assert await connected_peers() == sorted([TUTOR_PEER, MAYA_PEER])
    assert await events() == [(TUTOR_PEER, "joined"), (MAYA_PEER, "joined")]
    await tutor.disconnect()
    await maya.disconnect()


@pytest.mark.parametrize(
    "who", ["student2", "other_tutor", "admin", "agent", "outsider", "removed"]
)
async def test_nobody_else_may_enter(cast: Cast, online: Session, who: str) -> None:
    if who == "removed":
        await sync_to_async(remove_participant)(
            session_id=online.pk, actor=cast.tutor, user_id=cast.student.pk
        )
        user = cast.student
    else:
        user = getattr(cast, who)  # student2 is still only invited
    tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
    intruder = socket(online.pk, user, "intruder-peer-01")
    # Accepted first, so that the page can tell "not allowed" from "server down".
    assert await intruder.connect() == (True, None)
    assert await intruder.receive_json_from() == {
        "type": "refused",
        "code": "classroom_closed",
        "message": NOT_ALLOWED,
    }
    assert await closed_with(intruder) == 4403
    assert await quiet(tutor)
    assert await connected_peers() == [TUTOR_PEER]
    assert await events() == [(TUTOR_PEER, "joined")]
    await tutor.disconnect()


@pytest.mark.parametrize("user", [AnonymousUser(), None], ids=["anonymous", "no-user"])
async def test_an_anonymous_socket_is_closed_with_4403(
    online: Session, user: AnonymousUser | None
) -> None:
    anonymous = socket(online.pk, user, "anonymous-peer-1")
    assert await anonymous.connect() == (True, None)
    assert await closed_with(anonymous) == 4403
    assert await connected_peers() == []


async def test_an_in_person_session_has_no_classroom(cast: Cast) -> None:
    in_person = await sync_to_async(f.make_session)(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=timezone.now()
    )
    tutor = socket(in_person.pk, cast.tutor, TUTOR_PEER)
    assert await tutor.connect() == (True, None)
    assert await tutor.receive_json_from() == {
        "type": "refused",
        "code": "classroom_closed",
        "message": "This session meets in person; it has no online classroom.",
    }
    assert await closed_with(tutor) == 4403
    assert await db_state(in_person) == (Status.SCHEDULED, None, None)


async def test_an_unknown_session_is_closed_with_4403(cast: Cast, online: Session) -> None:
    stray = socket(online.pk + 1000, cast.tutor, TUTOR_PEER)
    assert await stray.connect() == (True, None)
    assert await closed_with(stray) == 4403


@pytest.mark.parametrize(
    "peer",
    [None, "", "short", "x" * 65, "has_underscore", "semi;colon-peer", "has%20a%20space"],
    ids=["missing", "empty", "too-short", "too-long", "underscore", "semicolon", "space"],
)
async def test_a_malformed_peer_id_is_closed_with_4400(
    cast: Cast, online: Session, peer: str | None
) -> None:
    tutor = socket(online.pk, cast.tutor, peer)
    assert await tutor.connect() == (True, None)
    assert await tutor.receive_json_from() == {
        "type": "refused",
        "code": "invalid_input",
        "message": "A classroom connection needs a peer id of 8–64 letters and digits.",
    }
    assert await closed_with(tutor) == 4400
    assert await connected_peers() == []
    assert await db_state(online) == (Status.INVITED, None, None)


async def test_the_whole_stack_lets_in_a_signed_in_tutor_from_this_site_only(
    cast: Cast, online: Session
) -> None:
    from config.asgi import application

    client = Client()
    await sync_to_async(client.force_login)(cast.tutor)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    path = f"/ws/sessions/{online.pk}/classroom/?peer={TUTOR_PEER}"

    # Another site's page cannot use the tutor's cookie: refused before the handshake.
    foreign = WebsocketCommunicator(
        application, path, [(b"cookie", cookie), (b"origin", b"https://evil.example")]
    )
    assert await foreign.connect() == (False, 1000)
    await foreign.disconnect(code=1006)
    # Nor can a client that sends no Origin at all.
    no_origin = WebsocketCommunicator(application, path, [(b"cookie", cookie)])
    assert await no_origin.connect() == (False, 1000)
    await no_origin.disconnect(code=1006)
    # Without the cookie the socket is anonymous.
    anonymous = WebsocketCommunicator(application, path, [(b"origin", b"http://127.0.0.1:8000")])
    assert await anonymous.connect() == (True, None)
    assert await closed_with(anonymous) == 4403
    assert await connected_peers() == []

    tutor = WebsocketCommunicator(
        application, path, [(b"cookie", cookie), (b"origin", b"http://127.0.0.1:8000")]
    )
    assert await tutor.connect() == (True, None)
    welcome = await tutor.receive_json_from()
    assert (welcome["type"], welcome["user_id"]) == ("welcome", cast.tutor.pk)
    assert await roster_of(tutor) == [TUTOR_PEER]
    await tutor.disconnect()
    assert await connected_peers() == []


# -- frame validation --------------------------------------------------------------------------

BAD_FRAMES: dict[str, tuple[str | bytes, str]] = {
    "not-json": ("{'type': 'chat'", "That frame is not valid JSON."),
    "a-list": ("[1, 2]", "A frame is a JSON object with a string 'type'."),
    "a-string": ('"signal"', "A frame is a JSON object with a string 'type'."),
    "no-type": ('{"text": "hi"}', "A frame is a JSON object with a string 'type'."),
    "numeric-type": ('{"type": 5}', "A frame is a JSON object with a string 'type'."),
    "unknown-type": ('{"type": "dance"}', "Unknown frame type 'dance'."),
    "signal-without-to": (
        json.dumps({"type": "signal", "kind": "offer", "payload": {"sdp": "v=0"}}),
        "A signal needs 'to': another participant's peer id.",
    ),
    "signal-to-a-bad-id": (
        json.dumps({"type": "signal", "to": "x", "kind": "offer", "payload": {"sdp": "v=0"}}),
        "A signal needs 'to': another participant's peer id.",
    ),
    "signal-to-oneself": (
        json.dumps({"type": "signal", "to": TUTOR_PEER, "kind": "offer", "payload": {"sdp": "v"}}),
        "A signal needs 'to': another participant's peer id.",
    ),
    "signal-bad-kind": (
        json.dumps({"type": "signal", "to": MAYA_PEER, "kind": "hello", "payload": {}}),
        "A signal's 'kind' is offer, answer or candidate.",
    ),
    "signal-payload-not-object": (
        json.dumps({"type": "signal", "to": MAYA_PEER, "kind": "candidate", "payload": "x"}),
        "A signal's 'payload' is an object.",
    ),
    "offer-without-sdp": (
        json.dumps({"type": "signal", "to": MAYA_PEER, "kind": "offer", "payload": {}}),
        "An offer or answer carries its 'sdp' text.",
    ),
    "answer-with-numeric-sdp": (
        json.dumps({"type": "signal", "to": MAYA_PEER, "kind": "answer", "payload": {"sdp": 1}}),
        "An offer or answer carries its 'sdp' text.",
    ),
    "chat-without-text": ('{"type": "chat"}', "A chat message has 'text'."),
    "chat-empty": (json.dumps({"type": "chat", "text": "  \n "}), "Type a message first."),
    "chat-nul": (
        json.dumps({"type": "chat", "text": "hi\u0000there"}),
        "Message contains an invisible control character; remove it and try again.",
    ),
    "chat-too-long": (
        json.dumps({"type": "chat", "text": "a" * 1001}),
        "Message is 1,001 characters long; keep it under 1,000.",
    ),
    "caption-without-text": (
        json.dumps({"type": "caption", "final": True}),
        "A caption has 'text' and a boolean 'final'.",
    ),
    "caption-final-not-boolean": (
        json.dumps({"type": "caption", "text": "hello", "final": "yes"}),
        "A caption has 'text' and a boolean 'final'.",
    ),
    "caption-empty": (
        json.dumps({"type": "caption", "text": " \t ", "final": True}),
        "A caption needs some text.",
    ),
    "caption-bidi-override": (
        json.dumps({"type": "caption", "text": "see evil\u202etxt.exe", "final": True}),
        "Caption contains an invisible character (U+202E, right-to-left override) that "
        "changes how the text looks or reads; remove it and try again.",
    ),
    "caption-zero-width-space": (
        json.dumps({"type": "caption", "text": "a\u200bb", "final": False}),
        "Caption contains an invisible character (U+200B, zero width space) that "
        "changes how the text looks or reads; remove it and try again.",
    ),
    "caption-control": (
        json.dumps({"type": "caption", "text": "beep\u0007", "final": True}),
        "Caption contains an invisible control character; remove it and try again.",
    ),
    "caption-too-long": (
        json.dumps({"type": "caption", "text": "a" * 501, "final": True}),
        "Caption is 501 characters long; keep it under 500.",
    ),
    "media-not-booleans": (
        json.dumps({"type": "media", "audio": "off", "video": True}),
        "A media frame has boolean 'audio' and 'video'.",
    ),
    "70-kb": (
        json.dumps({"type": "chat", "text": "a" * 70_000}),
        "Frames are JSON text of at most 64 KiB.",
    ),
    "binary": (b'{"type": "heartbeat"}', "Frames are JSON text of at most 64 KiB."),
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(
    cast: Cast, online: Session, name: str
) -> None:
    data, message = BAD_FRAMES[name]
    tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
    maya, _ = await enter(online, cast.student, MAYA_PEER)
    await roster_of(tutor)
    if isinstance(data, bytes):
        await tutor.send_to(bytes_data=data)
    else:
        await tutor.send_to(text_data=data)
    assert await tutor.receive_json_from() == {"type": "error", "message": message}
    assert await quiet(tutor, maya)  # nothing relayed, nobody told anything else
    await tutor.send_json_to({"type": "heartbeat"})
    assert await tutor.receive_json_from() == {"type": "heartbeat_ack"}
    assert await connected_peers() == sorted([TUTOR_PEER, MAYA_PEER])
    await tutor.disconnect()
    await maya.disconnect()


# -- relay -------------------------------------------------------------------------------------


async def test_signals_reach_only_the_addressed_peer_of_the_same_room(
    cast: Cast, everyone_accepted: Session, room_b: Session
) -> None:
    a = everyone_accepted
    tutor, _ = await enter(a, cast.tutor, TUTOR_PEER)
    maya, _ = await enter(a, cast.student, MAYA_PEER)
    await roster_of(tutor)
    b_tutor, _ = await enter(room_b, cast.other_tutor, B_TUTOR_PEER)
    # Sam is in room A (a third member who is not addressed) and nowhere else.
    sam, _ = await enter(a, cast.student2, SAM_PEER)
    await roster_of(tutor)
    await roster_of(maya)
    assert await quiet(tutor, maya, sam, b_tutor)

    offer = {"type": "offer", "sdp": "v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\n"}
    await tutor.send_json_to({"type": "signal", "to": MAYA_PEER, "kind": "offer", "payload": offer})
    assert await maya.receive_json_from() == {
        "type": "signal",
        "from": TUTOR_PEER,
        "kind": "offer",
        "payload": offer,
    }
    assert await quiet(tutor, sam, b_tutor)

    candidate = {
        "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
        "sdpMid": "0",
    }
    await maya.send_json_to(
        {"type": "signal", "to": TUTOR_PEER, "kind": "candidate", "payload": candidate}
    )
    assert await tutor.receive_json_from() == {
        "type": "signal",
        "from": MAYA_PEER,
        "kind": "candidate",
        "payload": candidate,
    }
    assert await quiet(maya, sam, b_tutor)

    # Addressed to room B's tutor from room A: delivered to nobody, and the sender is told.
    await tutor.send_json_to(
        {"type": "signal", "to": B_TUTOR_PEER, "kind": "offer", "payload": offer}
    )
    assert await tutor.receive_json_from() == {
        "type": "error",
        "message": "That participant is not in this call.",
    }
    assert await quiet(tutor, maya, sam, b_tutor)
    for communicator in (tutor, maya, sam, b_tutor):
        await communicator.disconnect()


async def test_chat_reaches_everyone_in_the_room_and_nobody_outside(
    cast: Cast, online: Session, room_b: Session
) -> None:
    tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
    maya, _ = await enter(online, cast.student, MAYA_PEER)
    await roster_of(tutor)
    b_tutor, _ = await enter(room_b, cast.other_tutor, B_TUTOR_PEER)
    b_student, _ = await enter(room_b, cast.student2, B_STUDENT_PEER)
    await roster_of(b_tutor)

    longest = "é" * 1000
    await maya.send_json_to({"type": "chat", "text": "  Can you see my screen?  "})
    await maya.send_json_to({"type": "chat", "text": longest})
    for member in (tutor, maya):  # the sender sees her own message come back, in order
        first = await member.receive_json_from()
        sent_at = datetime.fromisoformat(first.pop("at"))
        assert abs((timezone.now() - sent_at).total_seconds()) < 5
        assert first == {
            "type": "chat",
            "from": MAYA_PEER,
            "name": "Maya Chen",
            "text": "Can you see my screen?",
        }
        second = await member.receive_json_from()
        assert (second["from"], second["text"]) == (MAYA_PEER, longest)
    assert await quiet(tutor, maya, b_tutor, b_student)
    for communicator in (tutor, maya, b_tutor, b_student):
        await communicator.disconnect()


async def test_captions_reach_everyone_in_the_room_with_the_speakers_name(
    cast: Cast, online: Session, room_b: Session
) -> None:
    tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
    maya, _ = await enter(online, cast.student, MAYA_PEER)
    await roster_of(tutor)
    b_tutor, _ = await enter(room_b, cast.other_tutor, B_TUTOR_PEER)

    await maya.send_json_to({"type": "caption", "text": " so the  ladder", "final": False})
    await maya.send_json_to({"type": "caption", "text": "a" * 500, "final": True})
    for member in (tutor, maya):
        assert await member.receive_json_from() == {
            "type": "caption",
            "from": MAYA_PEER,
            "name": "Maya Chen",
            "text": "so the ladder",
            "final": False,
        }
        assert await member.receive_json_from() == {
            "type": "caption",
            "from": MAYA_PEER,
            "name": "Maya Chen",
            "text": "a" * 500,
            "final": True,
        }
    assert await quiet(tutor, maya, b_tutor)
    # Nothing of a caption is kept: the call's events are only the three joins.
    assert [kind for _, kind in await events()] == [EventKind.JOINED] * 3
    for communicator in (tutor, maya, b_tutor):
        await communicator.disconnect()


async def test_captions_faster_than_the_limit_are_refused_and_not_relayed(
    cast: Cast, online: Session
) -> None:
    tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
    maya, _ = await enter(online, cast.student, MAYA_PEER)
    await roster_of(tutor)
    for n in range(consumers.CAPTION_BURST + 1):
        await maya.send_json_to({"type": "caption", "text": f"word {n}", "final": False})
    for n in range(consumers.CAPTION_BURST):
        assert (await tutor.receive_json_from())["text"] == f"word {n}"
        assert (await maya.receive_json_from())["text"] == f"word {n}"
    assert await maya.receive_json_from() == {
        "type": "error",
        "message": "Captions are coming faster than 10 every 5 seconds; this one was not shown.",
    }
    assert await quiet(tutor, maya)
    # The socket stays open, and chat is not limited by captions.
    await maya.send_json_to({"type": "chat", "text": "still here"})
    assert (await tutor.receive_json_from())["text"] == "still here"
    await tutor.disconnect()
    await maya.disconnect()


async def test_a_media_change_updates_everyones_roster(cast: Cast, online: Session) -> None:
    tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
    maya, _ = await enter(online, cast.student, MAYA_PEER)
    await roster_of(tutor)
    await maya.send_json_to({"type": "media", "audio": False, "video": True})
    for member in (tutor, maya):
        frame = await member.receive_json_from()
        media = {p["peer_id"]: (p["audio"], p["video"]) for p in frame["peers"]}
        assert media == {TUTOR_PEER: (True, True), MAYA_PEER: (False, True)}
    await tutor.disconnect()
    await maya.disconnect()


# -- presence ----------------------------------------------------------------------------------


@pytest.mark.parametrize("then_code", [1000, 1006])
async def test_a_leave_frame_leaves_at_once(cast: Cast, online: Session, then_code: int) -> None:
    tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
    maya, _ = await enter(online, cast.student, MAYA_PEER)
    await roster_of(tutor)
    await maya.send_json_to({"type": "leave"})
    message = await maya.receive_output()
    assert message == {"type": "websocket.close", "code": 1000}
    # Even if the closing handshake then fails (1006), "leave" was said on purpose.
    await maya.disconnect(code=then_code)
    assert await roster_of(tutor) == [TUTOR_PEER]
    assert await connected_peers() == [TUTOR_PEER]
    assert await events() == [(TUTOR_PEER, "joined"), (MAYA_PEER, "joined"), (MAYA_PEER, "left")]
    await tutor.disconnect()


@pytest.mark.parametrize("code", [1000, 1001])
async def test_a_clean_close_is_a_leave(cast: Cast, online: Session, code: int) -> None:
    tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
    maya, _ = await enter(online, cast.student, MAYA_PEER)
    await roster_of(tutor)
    await maya.disconnect(code=code)
    assert await roster_of(tutor) == [TUTOR_PEER]
    assert await connected_peers() == [TUTOR_PEER]
    assert (await events())[-1] == (MAYA_PEER, "left")
    await tutor.disconnect()


@pytest.fixture
def clock() -> Iterator[datetime]:
    """A whole-second start time; tests move a frozen clock relative to it."""
    yield timezone.now().replace(microsecond=0)


async def test_a_dropped_socket_keeps_its_seat_until_the_presence_timeout(
    cast: Cast, online: Session, clock: datetime
) -> None:
    with time_machine.travel(clock, tick=False):
        tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
        maya, _ = await enter(online, cast.student, MAYA_PEER)
        await roster_of(tutor)
        await maya.disconnect(code=1006)  # the network died; no closing handshake
        assert await quiet(tutor)
        assert await connected_peers() == sorted([TUTOR_PEER, MAYA_PEER])
        assert await db_state(online) == (Status.IN_PROGRESS, clock, None)

    with time_machine.travel(clock + timedelta(seconds=45), tick=False):
        await tutor.send_json_to({"type": "heartbeat"})
        assert await tutor.receive_json_from() == {"type": "heartbeat_ack"}
        assert await quiet(tutor)

    with time_machine.travel(clock + timedelta(seconds=60), tick=False):
        # Exactly at the timeout Maya still counts.
        await tutor.send_json_to({"type": "heartbeat"})
        assert await tutor.receive_json_from() == {"type": "heartbeat_ack"}
        assert await quiet(tutor)
        assert await connected_peers() == sorted([TUTOR_PEER, MAYA_PEER])

    with time_machine.travel(clock + timedelta(seconds=61), tick=False):
        await tutor.send_json_to({"type": "heartbeat"})
        assert await tutor.receive_json_from() == {"type": "heartbeat_ack"}
        assert await roster_of(tutor) == [TUTOR_PEER]
        assert await quiet(tutor)

    assert await connected_peers() == [TUTOR_PEER]
    timed_out = await sync_to_async(CallEvent.objects.get)(kind=EventKind.TIMED_OUT)
    # She left when she was last heard from, not when somebody noticed.
    assert (timed_out.peer_id, timed_out.user_id, timed_out.at) == (
        MAYA_PEER,
        cast.student.pk,
        clock,
    )
    # The call (the tutor and Maya together) ended then, too.
    assert await db_state(online) == (Status.STARTING, clock, clock)
    await tutor.disconnect()


async def test_a_silent_tab_that_heartbeats_again_is_let_back_in(
    cast: Cast, online: Session, clock: datetime
) -> None:
    with time_machine.travel(clock, tick=False):
        tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
        maya, _ = await enter(online, cast.student, MAYA_PEER)
        await roster_of(tutor)
    with time_machine.travel(clock + timedelta(seconds=50), tick=False):
        await tutor.send_json_to({"type": "heartbeat"})
        assert await tutor.receive_json_from() == {"type": "heartbeat_ack"}
    with time_machine.travel(clock + timedelta(seconds=90), tick=False):
        # Maya's laptop slept for 90 s with the socket open: she timed out, and her next
        # heartbeat rejoins her under the same peer id.
        await maya.send_json_to({"type": "heartbeat"})
        assert await maya.receive_json_from() == {"type": "heartbeat_ack"}
        assert await roster_of(maya) == [TUTOR_PEER, MAYA_PEER]
        assert await roster_of(tutor) == [TUTOR_PEER, MAYA_PEER]
    assert [kind for peer, kind in await events() if peer == MAYA_PEER] == [
        "joined",
        "timed_out",
        "joined",
    ]
    await tutor.disconnect()
    await maya.disconnect()


async def test_a_silent_tab_that_may_no_longer_enter_is_refused_on_its_next_heartbeat(
    cast: Cast, online: Session, clock: datetime
) -> None:
    with time_machine.travel(clock, tick=False):
        tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
        maya, _ = await enter(online, cast.student, MAYA_PEER)
        await roster_of(tutor)
    with time_machine.travel(clock + timedelta(seconds=50), tick=False):
        await tutor.send_json_to({"type": "heartbeat"})
        assert await tutor.receive_json_from() == {"type": "heartbeat_ack"}
        # While Maya's laptop sleeps, the tutor takes her off the session.
        await sync_to_async(remove_participant)(
            session_id=online.pk, actor=cast.tutor, user_id=cast.student.pk
        )
    with time_machine.travel(clock + timedelta(seconds=90), tick=False):
        await maya.send_json_to({"type": "heartbeat"})
        assert await maya.receive_json_from() == {
            "type": "refused",
            "code": "classroom_closed",
            "message": NOT_ALLOWED,
        }
        assert await closed_with(maya) == 4403
    assert await connected_peers() == [TUTOR_PEER]
    await tutor.disconnect()


# -- status ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sam", "settles_to"),
    [
        (ParticipantState.INVITED, Status.INVITED),
        (ParticipantState.ACCEPTED, Status.SCHEDULED),
    ],
)
async def test_the_status_follows_who_is_in_the_call(
    cast: Cast, clock: datetime, sam: str, settles_to: str
) -> None:
    session = await sync_to_async(f.make_session)(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        states=[ParticipantState.ACCEPTED, sam],
        mode=Mode.ONLINE,
        start=clock,
    )
    assert await db_state(session) == (settles_to, None, None)
    # Steps shorter than the presence timeout: nobody here misses a heartbeat.
    with time_machine.travel(clock + timedelta(seconds=10), tick=False):
        tutor, _ = await enter(session, cast.tutor, TUTOR_PEER)
    # The tutor alone is not a call: it has neither started nor ended.
    assert await db_state(session) == (Status.STARTING, None, None)
    started = clock + timedelta(seconds=20)
    with time_machine.travel(started, tick=False):
        maya, _ = await enter(session, cast.student, MAYA_PEER)
        await roster_of(tutor)
    assert await db_state(session) == (Status.IN_PROGRESS, started, None)
    ended = clock + timedelta(seconds=30)
    with time_machine.travel(ended, tick=False):
        await maya.disconnect(code=1000)
        await roster_of(tutor)
    assert await db_state(session) == (Status.STARTING, started, ended)
    with time_machine.travel(clock + timedelta(seconds=40), tick=False):
        await tutor.disconnect(code=1000)
    # The tutor staying on alone afterwards does not lengthen the call.
    assert await db_state(session) == (settles_to, started, ended)
    presence = await sync_to_async(services.present_user_ids)(session.pk)
    assert presence == set()


async def test_the_tutor_alone_is_only_starting(cast: Cast, online: Session) -> None:
    tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
    assert (await db_state(online))[0] == Status.STARTING
    await tutor.disconnect()
    assert (await db_state(online))[0] == Status.INVITED


# -- reconnects --------------------------------------------------------------------------------


async def test_a_reconnect_with_the_same_peer_id_is_not_a_new_join(
    cast: Cast, online: Session, clock: datetime
) -> None:
    with time_machine.travel(clock, tick=False):
        tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
        maya, _ = await enter(online, cast.student, MAYA_PEER)
        await roster_of(tutor)
        await maya.disconnect(code=1006)
    with time_machine.travel(clock + timedelta(seconds=20), tick=False):
        again = socket(online.pk, cast.student, MAYA_PEER)
        assert await again.connect() == (True, None)
        welcome = await again.receive_json_from()
        assert (welcome["type"], welcome["peer_id"], welcome["reconnected"]) == (
            "welcome",
            MAYA_PEER,
            True,
        )
        assert await roster_of(again) == [TUTOR_PEER, MAYA_PEER]
        assert await roster_of(tutor) == [TUTOR_PEER, MAYA_PEER]
    assert await events() == [(TUTOR_PEER, "joined"), (MAYA_PEER, "joined")]
    assert await db_state(online) == (Status.IN_PROGRESS, clock, None)
    # Signals now find Maya on her new socket.
    await tutor.send_json_to(
        {"type": "signal", "to": MAYA_PEER, "kind": "offer", "payload": {"sdp": "v=0"}}
    )
    assert (await again.receive_json_from())["from"] == TUTOR_PEER
    await tutor.disconnect()
    await again.disconnect()


async def test_someone_else_cannot_take_over_a_connected_peer_id(
    cast: Cast, online: Session
) -> None:
    maya, _ = await enter(online, cast.student, MAYA_PEER)
    thief = socket(online.pk, cast.tutor, MAYA_PEER)
    assert await thief.connect() == (True, None)
    refused = await thief.receive_json_from()
    assert refused == {
        "type": "refused",
        "code": "forbidden",
        "message": "That connection belongs to someone else.",
    }
    assert await closed_with(thief) == 4403
    assert await quiet(maya)
    assert await connected_peers() == [MAYA_PEER]
    await maya.disconnect()


async def test_a_stale_socket_closing_after_its_reconnect_keeps_the_new_seat(
    cast: Cast, online: Session
) -> None:
    tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
    old, _ = await enter(online, cast.student, MAYA_PEER)
    await roster_of(tutor)
    # The tab gave up on a socket that looked dead and opened a new one; the old one's close
    # reaches the server only afterwards.
    new = socket(online.pk, cast.student, MAYA_PEER)
    assert await new.connect() == (True, None)
    assert (await new.receive_json_from())["reconnected"] is True
    await roster_of(new)
    await roster_of(tutor)
    await roster_of(old)
    await old.disconnect(code=1000)
    assert await connected_peers() == sorted([TUTOR_PEER, MAYA_PEER])
    assert await events() == [(TUTOR_PEER, "joined"), (MAYA_PEER, "joined")]
    await tutor.disconnect()
    await new.disconnect()


# -- the end of a call -------------------------------------------------------------------------


async def test_ending_the_call_tells_everyone_and_closes_their_sockets(
    cast: Cast, online: Session, room_b: Session
) -> None:
    tutor, _ = await enter(online, cast.tutor, TUTOR_PEER)
    maya, _ = await enter(online, cast.student, MAYA_PEER)
    await roster_of(tutor)
    b_tutor, _ = await enter(room_b, cast.other_tutor, B_TUTOR_PEER)

    await sync_to_async(announce_call_ended)(online.pk)
    for member in (tutor, maya):
        assert await member.receive_json_from() == {
            "type": "ended",
            "message": "The tutor completed the session.",
        }
        assert await member.receive_output() == {"type": "websocket.close", "code": 1000}
    assert await quiet(b_tutor)
    for member in (tutor, maya):
        await member.disconnect(code=1000)
    assert await connected_peers() == [B_TUTOR_PEER]
    await b_tutor.disconnect()
