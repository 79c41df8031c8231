"""The status table: every (from, to) pair of the nine statuses, in the table and through the
services that make each move."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.errors import Conflict
from studyhall.core.models import AuditEntry
from studyhall.testing import factories as f
from studyhall.tutoring.lifecycle import (
    ALLOWED_MOVES,
    COMPLETABLE,
    PENDING,
    TERMINAL,
    can_move,
    move,
)
from studyhall.tutoring.models import Origin, ParticipantState, Session, Status
from studyhall.tutoring.services import missed
from studyhall.tutoring.services.classroom import follow_call
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.missed import report_nobody_came
from studyhall.tutoring.services.rescheduling import (
    accept_proposal,
    decline_proposal,
    propose_time,
)
from studyhall.tutoring.services.scheduling import (
    accept_session,
    cancel_session,
    decline_session,
    remove_participant,
)

if TYPE_CHECKING:
    from conftest import Cast

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
    (S.SCHEDULED, S.DECLINED),
    (S.SCHEDULED, S.CANCELED),
    (S.SCHEDULED, S.MISSED),
    (S.SCHEDULED, S.STARTING),
    (S.SCHEDULED, S.IN_PROGRESS),
    (S.SCHEDULED, S.COMPLETED),
    # A new time proposed: the tutor's makes it Invited, a student's Requested; declining it
    # puts the earlier status back.
    (S.REQUESTED, S.INVITED),
    (S.INVITED, S.REQUESTED),
    (S.SCHEDULED, S.REQUESTED),
    (S.SCHEDULED, S.INVITED),
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


# -- every move through the services that make it ------------------------------------------------
# Each allowed move once more, made by the real service that makes it in the product, from a
# session set up in the "from" status. The table of scenarios must cover the table of moves.

FUTURE = NOW + timedelta(days=1)
PAST = NOW - timedelta(hours=1)
LATER = NOW + timedelta(days=2)
PS = ParticipantState


def _session(
    cast: Cast,
    *,
    status: Status | None = None,
    states: list[str] | None = None,
    start: datetime = FUTURE,
    origin: str = Origin.INVITATION,
    group: bool = False,
) -> Session:
    students = [cast.student, cast.student2] if group else [cast.student]
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=students,
        states=states,
        status=status,
        start=start,
        origin=origin,
    )


def _request(cast: Cast, start: datetime = FUTURE) -> Session:
    return _session(cast, status=S.REQUESTED, origin=Origin.REQUEST, start=start)


def _invitation(cast: Cast, start: datetime = FUTURE) -> Session:
    return _session(cast, states=[PS.INVITED], start=start)


def _half_accepted_group(cast: Cast, start: datetime = PAST) -> Session:
    return _session(cast, states=[PS.ACCEPTED, PS.INVITED], start=start, group=True)


def _call(session: Session, *present: User) -> Session:
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        follow_call(
            session=locked,
            present_user_ids={u.pk for u in present},
            now=timezone.now(),
            emptied_at=timezone.now(),
        )
    return locked


def _complete(cast: Cast, session: Session, *, ending_call: bool = False) -> None:
    complete_session(
        session_id=session.pk,
        actor=cast.tutor,
        minutes=30,
        recap=f.GOOD_RECAP,
        ending_call=ending_call,
    )


def _sweep_after(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        missed.sweep()


Setup = Callable[["Cast"], Session]
Act = Callable[["Cast", Session], object]
SCENARIOS: dict[tuple[Status, Status], tuple[Setup, Act]] = {
    (S.REQUESTED, S.SCHEDULED): (
        _request,
        lambda c, s: accept_session(session_id=s.pk, actor=c.tutor),
    ),
    (S.REQUESTED, S.DECLINED): (
        _request,
        lambda c, s: decline_session(session_id=s.pk, actor=c.tutor, message="Fully booked"),
    ),
    (S.REQUESTED, S.CANCELED): (
        _request,
        lambda c, s: cancel_session(session_id=s.pk, actor=c.student, reason="Solved it"),
    ),
    (S.REQUESTED, S.MISSED): (
        lambda c: _request(c, start=NOW + timedelta(hours=1)),
        lambda c, s: _sweep_after(s.scheduled_end + timedelta(hours=72)),
    ),
    (S.REQUESTED, S.INVITED): (
        _request,
        lambda c, s: propose_time(session_id=s.pk, actor=c.tutor, scheduled_start=LATER),
    ),
    (S.INVITED, S.SCHEDULED): (
        _invitation,
        lambda c, s: accept_session(session_id=s.pk, actor=c.student),
    ),
    (S.INVITED, S.DECLINED): (
        _invitation,
        lambda c, s: decline_session(session_id=s.pk, actor=c.student),
    ),
    (S.INVITED, S.CANCELED): (
        _invitation,
        lambda c, s: cancel_session(session_id=s.pk, actor=c.tutor, reason="Room unavailable"),
    ),
    (S.INVITED, S.MISSED): (
        _invitation,
        lambda c, s: _sweep_after(s.scheduled_start),
    ),
    (S.INVITED, S.STARTING): (
        _half_accepted_group,
        lambda c, s: _call(s, c.tutor),
    ),
    (S.INVITED, S.IN_PROGRESS): (
        _half_accepted_group,
        lambda c, s: _call(s, c.tutor, c.student),
    ),
    (S.INVITED, S.REQUESTED): (
        _invitation,
        lambda c, s: propose_time(session_id=s.pk, actor=c.student, scheduled_start=LATER),
    ),
    (S.SCHEDULED, S.DECLINED): (
        _session,
        lambda c, s: decline_session(session_id=s.pk, actor=c.student),
    ),
    (S.SCHEDULED, S.CANCELED): (
        _session,
        lambda c, s: cancel_session(session_id=s.pk, actor=c.tutor, reason="Sick"),
    ),
    (S.SCHEDULED, S.MISSED): (
        lambda c: _session(c, start=PAST),
        lambda c, s: report_nobody_came(session_id=s.pk, actor=c.tutor),
    ),
    (S.SCHEDULED, S.STARTING): (
        lambda c: _session(c, start=PAST),
        lambda c, s: _call(s, c.student),
    ),
    (S.SCHEDULED, S.IN_PROGRESS): (
        lambda c: _session(c, start=PAST),
        lambda c, s: _call(s, c.tutor, c.student),
    ),
    (S.SCHEDULED, S.COMPLETED): (
        lambda c: _session(c, start=PAST),
        lambda c, s: _complete(c, s),
    ),
    (S.SCHEDULED, S.REQUESTED): (
        _session,
        lambda c, s: propose_time(session_id=s.pk, actor=c.student, scheduled_start=LATER),
    ),
    (S.SCHEDULED, S.INVITED): (
        _session,
        lambda c, s: propose_time(session_id=s.pk, actor=c.tutor, scheduled_start=LATER),
    ),
    (S.STARTING, S.IN_PROGRESS): (
        lambda c: _call(_session(c, start=PAST), c.tutor),
        lambda c, s: _call(s, c.tutor, c.student),
    ),
    (S.STARTING, S.SCHEDULED): (
        lambda c: _call(_session(c, start=PAST), c.tutor),
        lambda c, s: _call(s),
    ),
    (S.STARTING, S.INVITED): (
        lambda c: _call(_half_accepted_group(c), c.tutor),
        lambda c, s: _call(s),
    ),
    (S.STARTING, S.COMPLETED): (
        lambda c: _call(_session(c, start=PAST), c.tutor),
        lambda c, s: _complete(c, s, ending_call=True),
    ),
    (S.IN_PROGRESS, S.STARTING): (
        lambda c: _call(_session(c, start=PAST), c.tutor, c.student),
        lambda c, s: _call(s, c.tutor),
    ),
    (S.IN_PROGRESS, S.SCHEDULED): (
        lambda c: _call(_session(c, start=PAST), c.tutor, c.student),
        lambda c, s: _call(s),
    ),
    (S.IN_PROGRESS, S.INVITED): (
        lambda c: _call(_half_accepted_group(c), c.tutor, c.student),
        lambda c, s: _call(s),
    ),
    (S.IN_PROGRESS, S.COMPLETED): (
        lambda c: _call(_session(c, start=PAST), c.tutor, c.student),
        lambda c, s: _complete(c, s, ending_call=True),
    ),
}


def test_every_allowed_move_has_a_service_scenario() -> None:
    assert set(SCENARIOS) == EXPECTED_MOVES


@pytest.mark.parametrize(("current", "target"), sorted(SCENARIOS), ids=lambda s: str(s.value))
def test_each_allowed_move_is_made_by_a_service(
    cast: Cast, current: Status, target: Status
) -> None:
    setup, act = SCENARIOS[(current, target)]
    with time_machine.travel(NOW, tick=False):
        session = setup(cast)
        session.refresh_from_db()
        assert session.status == current
        act(cast, session)
    session.refresh_from_db()
    assert session.status == target
    assert (session.ended_at is not None) is (target in TERMINAL)


# -- and from an ended session, every action is refused ----------------------------------------

ACTIONS: dict[str, Act] = {
    "student accepts": lambda c, s: accept_session(session_id=s.pk, actor=c.student),
    "tutor accepts": lambda c, s: accept_session(session_id=s.pk, actor=c.tutor),
    "student declines": lambda c, s: decline_session(session_id=s.pk, actor=c.student),
    "tutor declines": lambda c, s: decline_session(session_id=s.pk, actor=c.tutor),
    "tutor cancels": lambda c, s: cancel_session(session_id=s.pk, actor=c.tutor, reason="x"),
    "student cancels": lambda c, s: cancel_session(session_id=s.pk, actor=c.student, reason="x"),
    "tutor removes": lambda c, s: remove_participant(
        session_id=s.pk, actor=c.tutor, user_id=c.student.pk
    ),
    "tutor proposes": lambda c, s: propose_time(
        session_id=s.pk, actor=c.tutor, scheduled_start=LATER
    ),
    "student proposes": lambda c, s: propose_time(
        session_id=s.pk, actor=c.student, scheduled_start=LATER
    ),
    "student accepts a new time": lambda c, s: accept_proposal(session_id=s.pk, actor=c.student),
    "tutor declines a new time": lambda c, s: decline_proposal(session_id=s.pk, actor=c.tutor),
    "tutor reports nobody came": lambda c, s: report_nobody_came(session_id=s.pk, actor=c.tutor),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("status", sorted(TERMINAL), ids=str)
def test_every_action_on_an_ended_session_is_refused(
    cast: Cast, status: Status, action: str
) -> None:
    if (status, action) == (S.MISSED, "tutor reports nobody came"):
        pytest.skip("reporting a missed session as missed again is a harmless repeat")
    with time_machine.travel(NOW, tick=False):
        session = _session(cast, status=status, states=[PS.INVITED])
        with pytest.raises(Conflict) as raised:
            ACTIONS[action](cast, session)
    assert raised.value.code in {"invalid_transition", "no_proposal"}
    session.refresh_from_db()
    assert session.status == status
    assert session.participants.get().state == PS.INVITED
    assert not AuditEntry.objects.filter(session=session).exists()
