"""Presence in the online classroom: join, heartbeat, leave, expiry, and the end of a call.

Every change locks the session row, updates the presence table and the join/leave history,
and lets the session's status follow (see tutoring.services.classroom.follow_call).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.calls.broadcast import announce_call_ended
from studyhall.calls.models import CallEvent, Connection, EventKind
from studyhall.core.errors import Forbidden, InvalidInput
from studyhall.orgs.services.access import require_transaction
from studyhall.tutoring import lifecycle
from studyhall.tutoring.access import access_session
from studyhall.tutoring.models import Mode, ParticipantState, Session
from studyhall.tutoring.permissions import ONLY_THE_TUTOR_COMPLETES, session_permissions
from studyhall.tutoring.services.classroom import follow_call
from studyhall.tutoring.services.completion import CompletionResult, complete_session
from studyhall.tutoring.text import when

# A tab heartbeats every HEARTBEAT_SECONDS; one silent for PRESENCE_TIMEOUT has left.
HEARTBEAT_SECONDS = 15
PRESENCE_TIMEOUT = timedelta(seconds=60)
OPENS_BEFORE_START = timedelta(minutes=15)
# A mesh call sends every stream to every other person; beyond six that overwhelms laptops.
MAX_PEOPLE = 6
PEER_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def join_refusal(user: User, session: Session, *, now: datetime) -> str | None:
    """Why this person may not enter the session's classroom now, or None if they may."""
    if session.mode != Mode.ONLINE:
        return "This session meets in person; it has no online classroom."
    if (
        session.tutor_id != user.pk
        and not session.participants.filter(user=user, state=ParticipantState.ACCEPTED).exists()
    ):
        return "Only the tutor and students who accepted the session can join its classroom."
    if session.status in lifecycle.TERMINAL:
        return f"This session is {session.get_status_display().lower()}; its classroom is closed."
    opens = session.scheduled_start - OPENS_BEFORE_START
    if now < opens:
        return f"The classroom opens 15 minutes before the start, {when(opens, user.zone)}."
    closes = session.classroom_closes_at
    if now > closes:
        return (
            f"This session's classroom closed {when(closes, user.zone)}, "
            f"{session.organization.classroom_closes_minutes} minutes after the scheduled end."
        )
    return None


@dataclass(frozen=True)
class Joined:
    connection: Connection
    reconnected: bool


def check_peer_id(peer_id: object) -> str:
    if not isinstance(peer_id, str) or not PEER_ID.match(peer_id):
        raise InvalidInput("A classroom connection needs a peer id of 8–64 letters and digits.")
    return peer_id


def join(
    *, session_id: int, user: User, peer_id: str, channel_name: str, now: datetime | None = None
) -> Joined:
    now = now or timezone.now()
    peer_id = check_peer_id(peer_id)
    with transaction.atomic():
        session = _locked(session_id)
        refusal = join_refusal(user, session, now=now)
        if refusal:
            raise Forbidden(refusal, code="classroom_closed")
        _expire(session, now=now)
        connection = Connection.objects.filter(peer_id=peer_id).first()
        if connection is not None and (
            connection.user_id != user.pk or connection.session_id != session.pk
        ):
            raise Forbidden("That connection belongs to someone else.")
        reconnected = connection is not None
        if connection is None and _is_full(session, user, now=now):
            raise Forbidden(
                f"This classroom is full: a call holds at most {MAX_PEOPLE} people.",
                code="classroom_full",
            )
        if connection is None:
            connection = Connection.objects.create(
                session=session,
                user=user,
                peer_id=peer_id,
                channel_name=channel_name,
                joined_at=now,
                last_seen_at=now,
            )
            CallEvent.objects.create(
                session=session, user=user, peer_id=peer_id, kind=EventKind.JOINED, at=now
            )
        else:
            connection.channel_name = channel_name
            connection.last_seen_at = now
            connection.save(update_fields=["channel_name", "last_seen_at"])
        _follow(session, now=now, emptied_at=now)
    return Joined(connection, reconnected)


def heartbeat(*, peer_id: str, now: datetime | None = None) -> bool:
    """Keep a connection alive; False when it had already expired (the tab must rejoin)."""
    now = now or timezone.now()
    return bool(
        Connection.objects.filter(peer_id=peer_id, last_seen_at__gte=now - PRESENCE_TIMEOUT).update(
            last_seen_at=now
        )
    )


def leave(
    *, peer_id: str, channel_name: str | None = None, now: datetime | None = None
) -> int | None:
    """The tab left on purpose (Leave call, or closed). Returns the session id, if any.

    With `channel_name`, only that socket's seat is given up: a socket closing after its tab
    has already reconnected on a new one must not take the new seat with it.
    """
    now = now or timezone.now()
    session_id = Connection.objects.filter(peer_id=peer_id).values_list("session_id", flat=True)
    first = session_id.first()
    if first is None:
        return None
    with transaction.atomic():
        session = _locked(first)
        connection = Connection.objects.filter(peer_id=peer_id).first()
        if connection is None or (
            channel_name is not None and connection.channel_name != channel_name
        ):
            return first
        CallEvent.objects.create(
            session=session,
            user_id=connection.user_id,
            peer_id=peer_id,
            kind=EventKind.LEFT,
            at=now,
        )
        connection.delete()
        _follow(session, now=now, emptied_at=now)
    return first


def expire(*, session_id: int, now: datetime | None = None) -> bool:
    """Drop connections silent for longer than the timeout; True if anyone was dropped."""
    now = now or timezone.now()
    cutoff = now - PRESENCE_TIMEOUT
    if not Connection.objects.filter(session_id=session_id, last_seen_at__lt=cutoff).exists():
        return False
    with transaction.atomic():
        session = _locked(session_id)
        dropped = _expire(session, now=now)
        if dropped:
            _follow(session, now=now, emptied_at=max(c.last_seen_at for c in dropped))
    return bool(dropped)


def end_call(*, session_id: int, now: datetime | None = None) -> list[str]:
    """Everyone leaves (the tutor completed the session from the call). Returns the peer ids."""
    now = now or timezone.now()
    with transaction.atomic():
        session = Session.objects.select_for_update(of=("self",)).get(pk=session_id)
        connections = list(Connection.objects.filter(session=session))
        CallEvent.objects.bulk_create(
            [
                CallEvent(
                    session=session,
                    user_id=c.user_id,
                    peer_id=c.peer_id,
                    kind=EventKind.LEFT,
                    at=now,
                )
                for c in connections
            ]
        )
        Connection.objects.filter(pk__in=[c.pk for c in connections]).delete()
        if connections:
            session.call_ended_at = now
            session.save(update_fields=["call_ended_at", "updated_at"])
    return [c.peer_id for c in connections]


def stay_or_refusal(*, session_id: int, user: User, peer_id: str) -> str | None:
    """On each heartbeat: may this person still be in the call? If not (removed from the
    session, classroom closed), their seat is given up and the reason returned."""
    session = (
        Session.objects.select_related("organization", "course", "tutor")
        .filter(pk=session_id)
        .first()
    )
    refusal = (
        "This session no longer exists."
        if session is None
        else join_refusal(user, session, now=timezone.now())
    )
    if refusal is not None:
        leave(peer_id=peer_id)
    return refusal


def expire_everywhere(*, now: datetime | None = None) -> int:
    """Drop silent connections in every session, so a call whose last people vanished
    (closed laptops) still ends and its status settles. Returns how many sessions changed."""
    now = now or timezone.now()
    stale_sessions = set(
        Connection.objects.filter(last_seen_at__lt=now - PRESENCE_TIMEOUT).values_list(
            "session_id", flat=True
        )
    )
    return sum(expire(session_id=session_id, now=now) for session_id in sorted(stale_sessions))


def channel_of(*, session_id: int, peer_id: str) -> str | None:
    """The channel of a live tab in this session's call, for relaying a signal to it."""
    return (
        Connection.objects.filter(
            session_id=session_id,
            peer_id=peer_id,
            last_seen_at__gte=timezone.now() - PRESENCE_TIMEOUT,
        )
        .values_list("channel_name", flat=True)
        .first()
    )


def complete_from_call(
    *,
    session_id: int,
    actor: User,
    minutes: int | None,
    recap: Mapping[str, object],
    idempotency_key: str | None,
    no_show_user_ids: Collection[int] = (),
    confirm_time: bool = False,
) -> CompletionResult:
    """ "Log time & leave call": the tutor completes the session from inside the call, which
    then ends for everyone still in it — in the caller's transaction (the completion and the
    call's end commit together), with everyone told once it has committed."""
    require_transaction()
    session = access_session(actor, session_id)
    # Support logs on the tutor's behalf from the session's page, never from a call.
    if not session_permissions(actor, session).is_tutor:
        raise Forbidden(ONLY_THE_TUTOR_COMPLETES)
    if not session.is_online:
        raise Forbidden("This session meets in person; complete it from its page.")
    result = complete_session(
        session_id=session.pk,
        actor=actor,
        minutes=minutes,
        recap=recap,
        idempotency_key=idempotency_key,
        ending_call=True,
        no_show_user_ids=no_show_user_ids,
        confirm_time=confirm_time,
    )
    if not result.replayed:
        end_call(session_id=session.pk)
        transaction.on_commit(partial(announce_call_ended, session.pk), robust=True)
    return result


def set_media(*, peer_id: str, audio: bool, video: bool) -> None:
    Connection.objects.filter(peer_id=peer_id).update(audio=audio, video=video)


def live_connections(session_id: int, *, now: datetime | None = None) -> list[Connection]:
    now = now or timezone.now()
    return list(
        Connection.objects.filter(session_id=session_id, last_seen_at__gte=now - PRESENCE_TIMEOUT)
        .select_related("user")
        .order_by("joined_at", "id")
    )


def present_user_ids(session_id: int, *, now: datetime | None = None) -> set[int]:
    now = now or timezone.now()
    return set(
        Connection.objects.filter(
            session_id=session_id, last_seen_at__gte=now - PRESENCE_TIMEOUT
        ).values_list("user_id", flat=True)
    )


def _is_full(session: Session, user: User, *, now: datetime) -> bool:
    present = present_user_ids(session.pk, now=now)
    return user.pk not in present and len(present) >= MAX_PEOPLE


def _locked(session_id: int) -> Session:
    return (
        Session.objects.select_for_update(of=("self",))
        .select_related("organization", "course", "tutor")
        .get(pk=session_id)
    )


def _expire(session: Session, *, now: datetime) -> list[Connection]:
    stale = list(
        Connection.objects.filter(session=session, last_seen_at__lt=now - PRESENCE_TIMEOUT)
    )
    CallEvent.objects.bulk_create(
        [
            CallEvent(
                session=session,
                user_id=c.user_id,
                peer_id=c.peer_id,
                kind=EventKind.TIMED_OUT,
                at=c.last_seen_at,
            )
            for c in stale
        ]
    )
    Connection.objects.filter(pk__in=[c.pk for c in stale]).delete()
    return stale


def _follow(session: Session, *, now: datetime, emptied_at: datetime) -> None:
    follow_call(
        session=session,
        present_user_ids=present_user_ids(session.pk, now=now),
        now=now,
        emptied_at=emptied_at,
    )
