"""Presence with a frozen clock: joins, leaves, expiry, status, call times and measured time."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.calls import services
from studyhall.calls.models import CallEvent, Connection, EventKind
from studyhall.calls.presence import DatabaseCallPresence
from studyhall.core.errors import Forbidden, InvalidInput
from studyhall.orgs.models import Role
from studyhall.testing import factories as f
from studyhall.tutoring.models import Mode, ParticipantState, Session, Status
from studyhall.tutoring.services.scheduling import remove_participant

TUTOR_PEER = "tutor-peer-0001"
MAYA_PEER = "maya-peer-0001"


def join(session: Session, user: User, peer: str) -> services.Joined:
    return services.join(session_id=session.pk, user=user, peer_id=peer, channel_name=f"ch.{peer}")


def status(session: Session) -> str:
    session.refresh_from_db()
    return session.status


def test_first_join_starts_the_call_and_tutor_with_student_is_in_progress(
    cast: Cast, online: Session
) -> None:
    # Sam's pending invitation keeps the session Invited until the call starts.
    assert online.status == Status.INVITED
    join(online, cast.student, MAYA_PEER)
    assert status(online) == Status.STARTING
    online.refresh_from_db()
    # Someone alone in the classroom is not a call yet.
    assert online.call_started_at is None
    join(online, cast.tutor, TUTOR_PEER)
    assert status(online) == Status.IN_PROGRESS
    online.refresh_from_db()
    assert online.call_started_at is not None
    assert services.present_user_ids(online.pk) == {cast.tutor.pk, cast.student.pk}


def test_leaving_moves_back_and_the_empty_room_ends_the_call(cast: Cast, online: Session) -> None:
    join(online, cast.tutor, TUTOR_PEER)
    join(online, cast.student, MAYA_PEER)
    services.leave(peer_id=MAYA_PEER)
    assert status(online) == Status.STARTING
    services.leave(peer_id=TUTOR_PEER)
    # Sam is still invited, so with nobody in the call the session settles back to Invited.
    assert status(online) == Status.INVITED
    online.refresh_from_db()
    assert online.call_ended_at is not None
    assert Connection.objects.count() == 0
    kinds = list(CallEvent.objects.values_list("kind", flat=True))
    assert kinds == ["joined", "joined", "left", "left"]


def test_a_silent_connection_is_gone_after_sixty_seconds(cast: Cast, online: Session) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        join(online, cast.tutor, TUTOR_PEER)
        join(online, cast.student, MAYA_PEER)
    with time_machine.travel(start + timedelta(seconds=45), tick=False):
        assert services.heartbeat(peer_id=TUTOR_PEER) is True
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        # Exactly at the timeout Maya still counts.
        assert services.present_user_ids(online.pk) == {cast.tutor.pk, cast.student.pk}
        assert services.expire(session_id=online.pk) is False
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert services.present_user_ids(online.pk) == {cast.tutor.pk}
        assert services.expire(session_id=online.pk) is True
    assert status(online) == Status.STARTING
    timed_out = CallEvent.objects.get(kind=EventKind.TIMED_OUT)
    # She left when she was last heard from, not when somebody noticed.
    assert timed_out.at == start
    assert timed_out.user_id == cast.student.pk


def test_a_reconnect_within_the_timeout_is_not_a_leave(cast: Cast, online: Session) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        join(online, cast.student, MAYA_PEER)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        again = join(online, cast.student, MAYA_PEER)
    assert again.reconnected is True
    assert list(CallEvent.objects.values_list("kind", flat=True)) == ["joined"]
    assert Connection.objects.get().channel_name == f"ch.{MAYA_PEER}"


def test_an_expired_heartbeat_asks_the_tab_to_rejoin(cast: Cast, online: Session) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        join(online, cast.student, MAYA_PEER)
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        assert services.heartbeat(peer_id=MAYA_PEER) is False


def test_who_may_join(cast: Cast, online: Session) -> None:
    with pytest.raises(Forbidden):
        join(online, cast.student2, "sam-peer-0001")  # still invited
    with pytest.raises(Forbidden):
        join(online, cast.other_tutor, "otto-peer-0001")
    with pytest.raises(Forbidden):
        join(online, cast.admin, "ada-peer-0001")
    with pytest.raises(InvalidInput):
        join(online, cast.tutor, "x")
    assert Connection.objects.count() == 0
    assert CallEvent.objects.count() == 0


def test_someone_else_cannot_take_over_a_peer_id(cast: Cast, online: Session) -> None:
    join(online, cast.student, MAYA_PEER)
    with pytest.raises(Forbidden):
        join(online, cast.tutor, MAYA_PEER)


def test_the_classroom_opens_fifteen_minutes_before_the_start(cast: Cast) -> None:
    start = timezone.now() + timedelta(minutes=30)
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], mode=Mode.ONLINE, start=start
    )
    with (
        time_machine.travel(start - timedelta(minutes=15, seconds=1), tick=False),
        pytest.raises(Forbidden, match="opens 15 minutes before"),
    ):
        join(session, cast.tutor, TUTOR_PEER)
    with time_machine.travel(start - timedelta(minutes=15), tick=False):
        join(session, cast.tutor, TUTOR_PEER)


def test_closed_after_the_grace_period_and_for_in_person_sessions(cast: Cast) -> None:
    start = timezone.now() - timedelta(hours=80)
    old = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], mode=Mode.ONLINE, start=start
    )
    with pytest.raises(Forbidden, match="closed"):
        join(old, cast.tutor, TUTOR_PEER)
    in_person = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    with pytest.raises(Forbidden, match="in person"):
        join(in_person, cast.tutor, TUTOR_PEER)


def test_measured_seconds_and_presence_hook(cast: Cast, online: Session) -> None:
    hook = DatabaseCallPresence()
    assert hook.measured_seconds(online.pk) is None
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        join(online, cast.tutor, TUTOR_PEER)
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        Connection.objects.update(last_seen_at=timezone.now())  # the tutor kept heartbeating
        join(online, cast.student, MAYA_PEER)
    with time_machine.travel(start + timedelta(minutes=41), tick=False):
        Connection.objects.update(last_seen_at=timezone.now())
        services.leave(peer_id=MAYA_PEER)
        assert hook.user_ids_in_call(online.pk) == {cast.tutor.pk}
        assert hook.measured_seconds(online.pk) == 38 * 60


def test_end_call_removes_everyone(cast: Cast, online: Session) -> None:
    join(online, cast.tutor, TUTOR_PEER)
    join(online, cast.student, MAYA_PEER)
    assert sorted(services.end_call(session_id=online.pk)) == sorted([TUTOR_PEER, MAYA_PEER])
    assert Connection.objects.count() == 0
    assert services.present_user_ids(online.pk) == set()


def test_a_removed_student_cannot_join(cast: Cast, online: Session) -> None:
    remove_participant(session_id=online.pk, actor=cast.tutor, user_id=cast.student.pk)
    with pytest.raises(Forbidden):
        join(online, cast.student, MAYA_PEER)
    assert online.participants.get(user=cast.student).state == ParticipantState.REMOVED


def test_a_removed_student_loses_their_seat_on_the_next_heartbeat(
    cast: Cast, online: Session
) -> None:
    join(online, cast.tutor, TUTOR_PEER)
    join(online, cast.student, MAYA_PEER)
    assert (
        services.stay_or_refusal(session_id=online.pk, user=cast.student, peer_id=MAYA_PEER) is None
    )
    remove_participant(session_id=online.pk, actor=cast.tutor, user_id=cast.student.pk)
    refusal = services.stay_or_refusal(session_id=online.pk, user=cast.student, peer_id=MAYA_PEER)
    assert refusal == (
        "Only the tutor and students who accepted the session can join its classroom."
    )
    assert services.present_user_ids(online.pk) == {cast.tutor.pk}


def test_the_periodic_sweep_ends_calls_whose_people_vanished(cast: Cast, online: Session) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        join(online, cast.tutor, TUTOR_PEER)
        join(online, cast.student, MAYA_PEER)
    assert status(online) == Status.IN_PROGRESS
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert services.expire_everywhere() == 1
        assert services.expire_everywhere() == 0
    # Sam is still invited, so the session settles back to Invited; the call ended when the
    # last tab was last heard from.
    assert status(online) == Status.INVITED
    online.refresh_from_db()
    assert online.call_ended_at == start
    assert Connection.objects.count() == 0


def test_a_call_holds_at_most_six_people(cast: Cast) -> None:
    students = [f.add_member(cast.org, f.make_user(), Role.STUDENT) for _ in range(6)]
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=students, mode=Mode.ONLINE, start=timezone.now()
    )
    join(session, cast.tutor, TUTOR_PEER)
    for n, student in enumerate(students[:5]):
        join(session, student, f"student-peer-{n:04d}")
    with pytest.raises(Forbidden, match="at most 6 people"):
        join(session, students[5], "student-peer-0005")
    # Someone already in may open a second tab.
    join(session, students[0], "student-peer-tab2")
    assert Connection.objects.filter(session=session).count() == 7
