"""The API refuses a new time the session's program no longer pays for, as problem+json
naming the program."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.orgs.models import BudgetUnit, Program
from studyhall.testing import factories as f
from studyhall.tutoring.models import ProposalState, Session, TimeProposal

if TYPE_CHECKING:
    from conftest import Cast

ApiAs = Callable[[User | None], Api]
NOW = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)  # Monday
START = datetime(2031, 3, 5, 15, 0, tzinfo=UTC)  # Wednesday
NEW = datetime(2031, 3, 6, 18, 0, tzinfo=UTC)  # Thursday


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def on_grant(cast: Cast, *, ends_on: date) -> tuple[Session, Program]:
    program = f.make_program(
        cast.org,
        name="STEM grant",
        courses=[cast.course],
        students=[cast.student],
        starts_on=date(2031, 3, 1),
        ends_on=ends_on,
        budget_unit=BudgetUnit.HOURS,
        budget_amount=600,
    )
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        course=cast.course,
        start=START,
        program=program,
    )
    return session, program


def test_proposing_a_time_after_the_program_ends_is_422(cast: Cast, api_as: ApiAs) -> None:
    session, _ = on_grant(cast, ends_on=date(2031, 3, 5))

    response = api_as(cast.tutor).post(
        f"/sessions/{session.pk}/propose-time", {"scheduled_start": NEW.isoformat()}
    )

    body = assert_problem(response, 422, "outside_program_dates")
    assert body["detail"] == (
        "STEM grant pays for CHEM 110 from Mar 1, 2031 to Mar 5, 2031; the new time is on "
        "Mar 6, 2031."
    )
    assert TimeProposal.objects.count() == 0


def test_accepting_after_the_program_was_archived_is_422(cast: Cast, api_as: ApiAs) -> None:
    session, program = on_grant(cast, ends_on=date(2031, 6, 30))
    proposed = api_as(cast.tutor).post(
        f"/sessions/{session.pk}/propose-time", {"scheduled_start": NEW.isoformat()}
    )
    assert proposed.status_code == 200, proposed.content
    Program.objects.filter(pk=program.pk).update(archived_at=timezone.now())

    response = api_as(cast.student).post(f"/sessions/{session.pk}/proposal/accept")

    body = assert_problem(response, 422, "program_inactive")
    assert body["detail"] == (
        "STEM grant, which pays for this session, is no longer active; it pays for no new "
        "times. Ask your program admin."
    )
    assert TimeProposal.objects.get().state == ProposalState.OPEN
    session.refresh_from_db()
    assert session.scheduled_start == START
