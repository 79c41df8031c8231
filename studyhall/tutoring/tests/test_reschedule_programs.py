"""A new time stays with the session's program: proposing it and accepting it are checked
against that program's dates, whether it is still active and what its budget has left, and
refused as booking refuses, naming the program."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studyhall.core.errors import RuleViolation
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import BudgetUnit, Program
from studyhall.testing import factories as f
from studyhall.tutoring.models import ProposalState, Session, Status, TimeProposal
from studyhall.tutoring.services.rescheduling import accept_proposal, propose_time

if TYPE_CHECKING:
    from conftest import Cast

NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)  # Monday, 11:00 AM in New York
AGREED = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)  # Wednesday
NEW = datetime(2025, 3, 13, 17, 0, tzinfo=UTC)  # Thursday


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def grant(cast: Cast, **overrides: Any) -> Program:
    values: dict[str, Any] = {
        "name": "STEM grant",
        "courses": [cast.course],
        "students": [cast.student, cast.student2],
        "starts_on": date(2025, 3, 1),
        "ends_on": date(2025, 6, 30),
        "budget_unit": BudgetUnit.HOURS,
        "budget_amount": 120,
    }
    values.update(overrides)
    return f.make_program(cast.org, **values)


def on(cast: Cast, program: Program, *, student: Any = None, start: datetime = AGREED) -> Session:
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[student or cast.student],
        course=cast.course,
        start=start,
        minutes=60,
        program=program,
    )


def refused(call: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught, transaction.atomic():
        call()
    return caught.value


def test_a_new_time_after_the_program_ends_is_refused_and_nothing_is_written(
    cast: Cast,
) -> None:
    session = on(cast, grant(cast, ends_on=date(2025, 3, 12)))

    error = refused(
        lambda: propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    )

    assert (error.code, error.message) == (
        "outside_program_dates",
        "STEM grant pays for CHEM 110 from Mar 1, 2025 to Mar 12, 2025; the new time is on "
        "Mar 13, 2025.",
    )
    assert error.extra["field"] == "scheduled_start"
    assert TimeProposal.objects.count() == 0
    assert not AuditEntry.objects.filter(action="session.time_proposed").exists()
    session.refresh_from_db()
    assert (session.status, session.scheduled_start) == (Status.SCHEDULED, AGREED)


def test_a_longer_new_time_the_budget_cannot_hold_is_refused(cast: Cast) -> None:
    program = grant(cast)
    session = on(cast, program)
    on(cast, program, student=cast.student2, start=AGREED + timedelta(hours=3))

    error = refused(
        lambda: propose_time(
            session_id=session.pk, actor=cast.tutor, scheduled_start=NEW, planned_minutes=90
        )
    )

    assert (error.code, error.message) == (
        "program_budget_exhausted",
        "STEM grant has 1 h left of its 2 h budget; this 90-minute session needs 1 h 30 min. "
        "Ask your program admin about its budget.",
    )
    assert TimeProposal.objects.count() == 0
    # The same length at the new time fits: the session's own reservation moves with it.
    with transaction.atomic():
        propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    assert TimeProposal.objects.get().planned_minutes == 60


def test_accepting_a_new_time_after_the_program_was_archived_is_refused(cast: Cast) -> None:
    program = grant(cast)
    session = on(cast, program)
    with transaction.atomic():
        propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    Program.objects.filter(pk=program.pk).update(archived_at=timezone.now())

    error = refused(lambda: accept_proposal(session_id=session.pk, actor=cast.student))

    assert (error.code, error.message) == (
        "program_inactive",
        "STEM grant, which pays for this session, is no longer active; it pays for no new "
        "times. Ask your program admin.",
    )
    proposal = TimeProposal.objects.get()
    assert proposal.state == ProposalState.OPEN
    session.refresh_from_db()
    assert (session.status, session.scheduled_start) == (Status.INVITED, AGREED)
    assert not AuditEntry.objects.filter(action="session.rescheduled").exists()


def test_the_tutor_accepting_a_students_time_the_program_no_longer_covers_is_refused(
    cast: Cast,
) -> None:
    program = grant(cast)
    session = on(cast, program)
    with transaction.atomic():
        propose_time(session_id=session.pk, actor=cast.student, scheduled_start=NEW)
    Program.objects.filter(pk=program.pk).update(ends_on=date(2025, 3, 12))

    error = refused(lambda: accept_proposal(session_id=session.pk, actor=cast.tutor))

    assert error.code == "outside_program_dates"
    session.refresh_from_db()
    assert (session.status, session.scheduled_start) == (Status.REQUESTED, AGREED)


def test_the_propose_page_shows_the_programs_refusal(client: Client, cast: Cast) -> None:
    session = on(cast, grant(cast, ends_on=date(2025, 3, 12)))
    client.force_login(cast.tutor)

    response = client.post(
        reverse("tutoring:propose", args=[session.pk]),
        {"date": "2025-03-13", "time": "12:00", "minutes": "60", "message": ""},
    )

    assert response.status_code == 422
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))
    assert (
        "STEM grant pays for CHEM 110 from Mar 1, 2025 to Mar 12, 2025; the new time is on "
        "Mar 13, 2025." in text
    )
    assert TimeProposal.objects.count() == 0


def test_the_accept_button_shows_the_programs_refusal(client: Client, cast: Cast) -> None:
    program = grant(cast)
    session = on(cast, program)
    with transaction.atomic():
        propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    Program.objects.filter(pk=program.pk).update(archived_at=timezone.now())
    client.force_login(cast.student)

    response = client.post(reverse("tutoring:accept_proposal", args=[session.pk]), follow=True)

    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))
    assert (
        "STEM grant, which pays for this session, is no longer active; it pays for no new "
        "times. Ask your program admin." in text
    )
    assert TimeProposal.objects.get().state == ProposalState.OPEN
