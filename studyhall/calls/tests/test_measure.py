from datetime import UTC, datetime, timedelta

from studyhall.calls.measure import merge, overlap_seconds, together_seconds
from studyhall.calls.models import CallEvent, EventKind

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TUTOR, MAYA, SAM = 1, 2, 3


def ev(user: int, kind: str, minute: float, peer: str | None = None) -> CallEvent:
    return CallEvent(
        user_id=user,
        peer_id=peer or f"peer-{user}-aaaa",
        kind=kind,
        at=T0 + timedelta(minutes=minute),
    )


def minutes_together(events: list[CallEvent], now_minute: float = 200) -> float:
    seconds = together_seconds(
        events, tutor_id=TUTOR, student_ids={MAYA, SAM}, now=T0 + timedelta(minutes=now_minute)
    )
    return seconds / 60


def test_only_time_with_tutor_and_a_student_together_counts() -> None:
    events = [
        ev(TUTOR, EventKind.JOINED, 0),
        ev(MAYA, EventKind.JOINED, 10),
        ev(MAYA, EventKind.LEFT, 40),
        ev(TUTOR, EventKind.LEFT, 50),
    ]
    assert minutes_together(events) == 30


def test_students_overlapping_each_other_are_not_counted_twice() -> None:
    events = [
        ev(TUTOR, EventKind.JOINED, 0),
        ev(MAYA, EventKind.JOINED, 5),
        ev(SAM, EventKind.JOINED, 10),
        ev(MAYA, EventKind.LEFT, 30),
        ev(SAM, EventKind.LEFT, 45),
        ev(TUTOR, EventKind.LEFT, 60),
    ]
    assert minutes_together(events) == 40


def test_a_student_alone_before_the_tutor_does_not_count() -> None:
    events = [
        ev(MAYA, EventKind.JOINED, 0),
        ev(TUTOR, EventKind.JOINED, 20),
        ev(TUTOR, EventKind.LEFT, 35),
        ev(MAYA, EventKind.LEFT, 50),
    ]
    assert minutes_together(events) == 15


def test_a_timed_out_connection_counts_until_its_last_heartbeat() -> None:
    events = [
        ev(TUTOR, EventKind.JOINED, 0),
        ev(MAYA, EventKind.JOINED, 0),
        ev(MAYA, EventKind.TIMED_OUT, 22),
        ev(TUTOR, EventKind.LEFT, 60),
    ]
    assert minutes_together(events) == 22


def test_people_still_in_the_call_count_until_now() -> None:
    events = [ev(TUTOR, EventKind.JOINED, 0), ev(MAYA, EventKind.JOINED, 5)]
    assert minutes_together(events, now_minute=47) == 42


def test_two_tabs_of_one_student_merge() -> None:
    events = [
        ev(TUTOR, EventKind.JOINED, 0),
        ev(MAYA, EventKind.JOINED, 0, peer="maya-tab-one"),
        ev(MAYA, EventKind.JOINED, 10, peer="maya-tab-two"),
        ev(MAYA, EventKind.LEFT, 20, peer="maya-tab-one"),
        ev(MAYA, EventKind.LEFT, 30, peer="maya-tab-two"),
        ev(TUTOR, EventKind.LEFT, 60),
    ]
    assert minutes_together(events) == 30


def test_merge_and_overlap() -> None:
    a = merge(
        [(T0, T0 + timedelta(minutes=10)), (T0 + timedelta(minutes=5), T0 + timedelta(minutes=20))]
    )
    assert a == [(T0, T0 + timedelta(minutes=20))]
    b = [(T0 + timedelta(minutes=15), T0 + timedelta(minutes=30))]
    assert overlap_seconds(a, b) == 300
    assert overlap_seconds([], b) == 0
