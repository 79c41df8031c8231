"""The status table: every (from, to) pair of the nine statuses."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
import time_machine

from studyhall.core.errors import Conflict
from studyhall.tutoring.lifecycle import (
    ALLOWED_MOVES,
    COMPLETABLE,
    PENDING,
    TERMINAL,
    can_move,
    move,
)
from studyhall.tutoring.models import Session, Status

S = Status
ALL_PAIRS = list(itertools.product(Status, Status))
NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)

# Written out again on purpose: a change to the table must be a deliberate change here too.
EXPECTED_MOVES = {
    (S.REQUESTED, S.SCHEDULED),
    (S.REQUESTED, S.DECLINED),
    (S.REQUESTED, S.CANCELED),
    (S.REQUESTED, S.MISSED),
    (S.INVITED, S.SCHEDULED),
    (S.INVITED, S.DECLINED),
    (S.INVITED, S.CANCELED),
    (S.INVITED, S.MISSED),
    (S.INVITED, S.STARTING),
    (S.INVITED, S.IN_PROGRESS),
    (S.SCHEDULED, S.INVITED),
    (S.SCHEDULED, S.DECLINED),
    (S.SCHEDULED, S.CANCELED),
    (S.SCHEDULED, S.MISSED),
    (S.SCHEDULED, S.STARTING),
    (S.SCHEDULED, S.IN_PROGRESS),
    (S.SCHEDULED, S.COMPLETED),
    (S.STARTING, S.IN_PROGRESS),
    (S.STARTING, S.SCHEDULED),
    (S.STARTING, S.INVITED),
    (S.STARTING, S.COMPLETED),
    (S.IN_PROGRESS, S.STARTING),
    (S.IN_PROGRESS, S.SCHEDULED),
    (S.IN_PROGRESS, S.INVITED),
    (S.IN_PROGRESS, S.COMPLETED),
}


def test_nine_statuses() -> None:
    assert [s.value for s in Status] == [
        "requested",
        "invited",
        "scheduled",
        "starting",
        "in_progress",
        "completed",
        "canceled",
        "declined",
        "missed",
    ]
    assert len(ALL_PAIRS) == 81


def test_the_table_is_the_expected_one() -> None:
    assert set(ALLOWED_MOVES) == EXPECTED_MOVES


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda s: str(s.value))
def test_can_move_exactly_for_the_allowed_pairs(current: Status, target: Status) -> None:
    assert can_move(current, target) is ((current, target) in EXPECTED_MOVES)
    # Plain strings, as stored, behave the same as the enum members.
    assert can_move(current.value, target.value) is ((current, target) in EXPECTED_MOVES)


@pytest.mark.parametrize(
    ("current", "target"),
    [(a, b) for a, b in ALL_PAIRS if (a, b) in EXPECTED_MOVES],
    ids=lambda s: str(s.value),
)
def test_move_makes_each_allowed_move(current: Status, target: Status) -> None:
    session = Session(status=current)
    with time_machine.travel(NOW, tick=False):
        move(session, target)
    assert session.status == target
    assert session.ended_at == (NOW if target in TERMINAL else None)


@pytest.mark.parametrize(
    ("current", "target"),
    [(a, b) for a, b in ALL_PAIRS if (a, b) not in EXPECTED_MOVES and a != b],
    ids=lambda s: str(s.value),
)
def test_move_refuses_each_forbidden_move(current: Status, target: Status) -> None:
    session = Session(status=current)
    with pytest.raises(Conflict) as raised:
        move(session, target)
    assert raised.value.code == "invalid_transition"
    assert raised.value.http_status == 409
    assert raised.value.message == (
        f"A session that is {current.label.lower()} cannot become {target.label.lower()}."
    )
    assert session.status == current
    assert session.ended_at is None


@pytest.mark.parametrize("status", list(Status), ids=lambda s: str(s.value))
def test_moving_to_the_same_status_is_a_no_op(status: Status) -> None:
    session = Session(status=status)
    move(session, status)
    assert session.status == status
    assert session.ended_at is None


@pytest.mark.parametrize("status", sorted(TERMINAL), ids=str)
def test_terminal_statuses_have_no_outgoing_moves(status: Status) -> None:
    assert [b for a, b in ALLOWED_MOVES if a == status] == []
    assert not any(can_move(status, target) for target in Status)


def test_status_groups() -> None:
    assert set(TERMINAL) == {S.COMPLETED, S.CANCELED, S.DECLINED, S.MISSED}
    assert set(PENDING) == {S.REQUESTED, S.INVITED, S.SCHEDULED}
    assert set(COMPLETABLE) == {S.INVITED, S.SCHEDULED, S.STARTING, S.IN_PROGRESS}
    # Completed is reached only through the completion service, from a settled session.
    assert {a for a, b in ALLOWED_MOVES if b == S.COMPLETED} == {
        S.SCHEDULED,
        S.STARTING,
        S.IN_PROGRESS,
    }
