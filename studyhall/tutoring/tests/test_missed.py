"""Missed sessions with a frozen clock: the periodic job marks a session whose start passed
with no student accepted (once, however often it runs), leaves the others alone, expires new
times nobody answered; the tutor can report that nobody came."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from studyhall.core.errors import Conflict, Forbidden, RuleViolation
from studyhall.core.models import AuditEntry
from studyhall.core.periodic import enqueue_due_jobs
from studyhall.ledger.models import Transfer
from studyhall.testing import factories as f
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.eligibility import completion_refusal
from studyhall.tutoring.models import (
    Mode,
    Origin,
    Participant,
    ParticipantState,
    ProposalState,
    Session,
    Status,
    TimeProposal,
)
from studyhall.tutoring.services import missed
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.rescheduling import propose_time
from studyhall.tutoring.services.scheduling import accept_session, create_session

if TYPE_CHECKING:
    from conftest import Cast

PS = ParticipantState
NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
START = NOW + timedelta(hours=3)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def events() -> Iterator[list[tuple[str, int | None]]]:
    sent: list[tuple[str, int | None]] = []

    def record(**kwargs: Any) -> None:
        sent.append((kwargs["event"], kwargs["actor_id"]))

    with mock.patch("studyhall.tutoring.services.missed.after_commit_session_event", record):
        yield sent


def invitation(cast: Cast, *students: Any, start: datetime = START) -> Session:
    return create_session(
        actor=cast.tutor,
        organization_id=cast.org.pk,
        course_id=cast.course.pk,
        mode=Mode.ONLINE,
        scheduled_start=start,
        planned_minutes=60,
        student_ids=[s.pk for s in students or (cast.student,)],
    )


def status_of(session: Session) -> str:
    session.refresh_from_db()
    return session.status


def missed_entries(session: Session) -> list[dict[str, Any]]:
    return [
        {"actor": e.actor, **e.data}
        for e in AuditEntry.objects.filter(session=session, action="session.missed")
    ]


def test_an_invitation_nobody_accepted_is_missed_at_its_start(
    cast: Cast, frozen: time_machine.Traveller, events: list[tuple[str, int | None]]
) -> None:
    session = invitation(cast)

    frozen.move_to(START - timedelta(seconds=1))
    assert missed.sweep().missed_sessions == []
    assert status_of(session) == Status.INVITED

    frozen.move_to(START)
    assert missed.sweep().missed_sessions == [session.pk]
    session.refresh_from_db()
    assert (session.status, session.ended_at) == (Status.MISSED, START)
    assert missed_entries(session) == [{"actor": None, "reason": "no_student_accepted"}]
    assert events == [("missed", None)]


def test_running_the_job_twice_marks_once(
    cast: Cast, frozen: time_machine.Traveller, events: list[tuple[str, int | None]]
) -> None:
    session = invitation(cast)
    frozen.move_to(START + timedelta(minutes=1))

    first, second = missed.sweep(), missed.sweep()

    assert (first.missed_sessions, second.missed_sessions) == ([session.pk], [])
    assert len(missed_entries(session)) == 1
    assert events == [("missed", None)]


def test_a_missed_session_cannot_be_logged_so_the_tutor_is_not_paid(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = invitation(cast)
    frozen.move_to(START + timedelta(minutes=30))
    missed.sweep()

    with pytest.raises(Conflict) as raised:
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP)

    assert raised.value.code == "session_not_completable"
    assert raised.value.message == (
        "This session was missed (no student accepted it), so it cannot be logged."
    )
    assert not Transfer.objects.exists()


def test_an_accepted_session_is_not_missed(cast: Cast, frozen: time_machine.Traveller) -> None:
    session = invitation(cast)
    accept_session(session_id=session.pk, actor=cast.student)
    frozen.move_to(START + timedelta(days=5))
    assert missed.sweep().missed_sessions == []
    assert status_of(session) == Status.SCHEDULED


def test_a_student_still_invited_beside_one_who_accepted_keeps_blocking_completion(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = invitation(cast, cast.student, cast.student2)
    accept_session(session_id=session.pk, actor=cast.student)
    frozen.move_to(START + timedelta(minutes=70))

    assert missed.sweep().missed_sessions == []

    assert status_of(session) == Status.INVITED
    refusal = completion_refusal(
        session=session,
        participants=list(session.participants.select_related("user")),
        actor=cast.tutor,
        now=START + timedelta(minutes=70),
    )
    assert refusal is not None
    assert refusal.code == "participants_not_accepted"


def test_a_session_recorded_after_the_fact_waits_for_the_grace_period(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    started = NOW - timedelta(hours=2)
    session = invitation(cast, start=started)  # written down two hours after it began
    deadline = started + timedelta(minutes=60) + timedelta(hours=72)

    assert missed.sweep().missed_sessions == []
    frozen.move_to(deadline - timedelta(seconds=1))
    assert missed.sweep().missed_sessions == []
    frozen.move_to(deadline)
    assert missed.sweep().missed_sessions == [session.pk]


def test_a_request_the_tutor_never_answered_is_missed_when_logging_would_close(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = create_session(
        actor=cast.student,
        organization_id=cast.org.pk,
        course_id=cast.course.pk,
        mode=Mode.ONLINE,
        scheduled_start=START,
        planned_minutes=60,
        tutor_id=cast.tutor.pk,
    )
    deadline = START + timedelta(minutes=60) + timedelta(hours=72)

    frozen.move_to(START + timedelta(hours=1))
    assert missed.sweep().missed_sessions == []  # the tutor may still accept it and log it
    frozen.move_to(deadline)
    assert missed.sweep().missed_sessions == [session.pk]
    assert missed_entries(session) == [{"actor": None, "reason": "request_unanswered"}]


@pytest.mark.parametrize(
    "status", [Status.SCHEDULED, Status.STARTING, Status.IN_PROGRESS, Status.COMPLETED]
)
def test_sessions_under_way_or_done_are_left_alone(cast: Cast, status: Status) -> None:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        states=[PS.INVITED],
        status=status,
        start=NOW - timedelta(hours=1),
    )
    assert missed.sweep().missed_sessions == []
    assert status_of(session) == status


# -- new times nobody answered -----------------------------------------------------------------


def test_an_unanswered_new_time_expires_at_the_agreed_start(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = invitation(cast)
    accept_session(session_id=session.pk, actor=cast.student)
    proposal = propose_time(
        session_id=session.pk, actor=cast.tutor, scheduled_start=START + timedelta(days=2)
    )
    assert status_of(session) == Status.INVITED

    frozen.move_to(START)
    result = missed.sweep()

    # The student had agreed to this time: the session stands, nothing is missed.
    assert (result.expired_proposals, result.missed_sessions) == ([proposal.pk], [])
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.EXPIRED
    assert status_of(session) == Status.SCHEDULED
    assert Participant.objects.get(session=session).state == PS.ACCEPTED
    assert AuditEntry.objects.filter(session=session, action="session.time_expired").count() == 1
    assert missed.sweep().expired_proposals == []


def test_an_unanswered_earlier_time_expires_when_it_arrives(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = invitation(cast, start=START + timedelta(days=3))
    accept_session(session_id=session.pk, actor=cast.student)
    proposal = propose_time(session_id=session.pk, actor=cast.student, scheduled_start=START)
    assert status_of(session) == Status.REQUESTED

    frozen.move_to(START)
    assert missed.sweep().expired_proposals == [proposal.pk]
    assert status_of(session) == Status.SCHEDULED


def test_an_invitation_whose_new_time_went_unanswered_is_then_missed(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = invitation(cast)
    proposal = propose_time(
        session_id=session.pk, actor=cast.tutor, scheduled_start=START + timedelta(days=1)
    )

    frozen.move_to(START)
    result = missed.sweep()

    assert (result.expired_proposals, result.missed_sessions) == ([proposal.pk], [session.pk])
    assert status_of(session) == Status.MISSED


# -- the periodic job --------------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="db_worker closes the test's connection on PostgreSQL; the run is proven on SQLite",
)
def test_the_scheduler_and_worker_mark_missed_sessions(
    cast: Cast, frozen: time_machine.Traveller, settings: Any
) -> None:
    settings.STUDYHALL_PERIODIC_TASKS = {
        "sessions.mark_missed": {
            "task": "studyhall.tutoring.tasks.mark_missed_sessions",
            "every_seconds": 60,
        }
    }
    session = invitation(cast)
    frozen.move_to(START + timedelta(minutes=1))

    assert enqueue_due_jobs() == ["sessions.mark_missed"]
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")

    assert status_of(session) == Status.MISSED
    result = DBTaskResult.objects.get(task_path="studyhall.tutoring.tasks.mark_missed_sessions")
    assert result.status == "SUCCESSFUL"
    assert result.return_value == {"expired_proposals": [], "missed_sessions": [session.pk]}


def test_the_job_is_configured() -> None:
    from django.conf import settings

    assert settings.STUDYHALL_PERIODIC_TASKS["sessions.mark_missed"] == {
        "task": "studyhall.tutoring.tasks.mark_missed_sessions",
        "every_seconds": 60,
    }


# -- "nobody came" -----------------------------------------------------------------------------


def test_the_tutor_reports_that_nobody_came(
    cast: Cast, events: list[tuple[str, int | None]]
) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])

    missed.report_nobody_came(session_id=session.pk, actor=cast.tutor)
    missed.report_nobody_came(session_id=session.pk, actor=cast.tutor)

    assert status_of(session) == Status.MISSED
    assert missed_entries(session) == [{"actor": cast.tutor, "reason": "nobody_came"}]
    assert events == [("missed", cast.tutor.pk)]


def test_nobody_came_only_once_the_session_started(cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)
    with pytest.raises(Conflict) as raised:
        missed.report_nobody_came(session_id=session.pk, actor=cast.tutor)
    assert raised.value.code == "session_not_started"
    assert status_of(session) == Status.SCHEDULED


@pytest.mark.parametrize("who", ["student", "other_tutor", "admin"])
def test_only_the_tutor_reports_that_nobody_came(cast: Cast, who: str) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    with pytest.raises(Forbidden):
        missed.report_nobody_came(session_id=session.pk, actor=getattr(cast, who))
    assert status_of(session) == Status.SCHEDULED


@pytest.mark.parametrize(
    "status", [Status.REQUESTED, Status.IN_PROGRESS, Status.COMPLETED, Status.CANCELED]
)
def test_nobody_came_is_refused_from_other_statuses(cast: Cast, status: Status) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], status=status,
        origin=Origin.REQUEST if status == Status.REQUESTED else Origin.INVITATION,
    )  # fmt: skip
    with pytest.raises(Conflict) as raised:
        missed.report_nobody_came(session_id=session.pk, actor=cast.tutor)
    assert raised.value.code == "invalid_transition"
    assert status_of(session) == status


def test_a_missed_session_frees_its_time(cast: Cast, frozen: time_machine.Traveller) -> None:
    session = invitation(cast, start=NOW + timedelta(hours=1))
    frozen.move_to(NOW + timedelta(hours=1))
    missed.sweep()
    assert status_of(session) == Status.MISSED
    # The same tutor and student, the same day: allowed again, since a missed session does not
    # count.
    again = invitation(cast, start=NOW + timedelta(hours=4))
    assert again.status == Status.INVITED
    assert not TimeProposal.objects.exists()
    with pytest.raises(RuleViolation):
        invitation(cast, start=NOW + timedelta(hours=6))


@pytest.mark.parametrize("count", [2, 20])
def test_a_sweep_with_nothing_due_costs_the_same_few_statements(
    cast: Cast, frozen: time_machine.Traveller, count: int, django_assert_num_queries: Any
) -> None:
    # Requests still waiting for their tutor (not due until logging would close) and
    # invitations with a student who accepted: none is due.
    for n in range(count):
        f.make_session(
            org=cast.org,
            tutor=cast.tutor,
            students=[cast.student],
            start=START - timedelta(hours=2, minutes=n),
            states=[ParticipantState.INVITED],
            status=Status.REQUESTED,
        )
        f.make_session(
            org=cast.org,
            tutor=cast.tutor,
            students=[cast.student, cast.student2],
            start=START - timedelta(hours=3, minutes=n),
            states=[ParticipantState.ACCEPTED, ParticipantState.INVITED],
        )
    frozen.move_to(START)
    # The due new times, the candidates, and the online sessions a tutor may have missed.
    with django_assert_num_queries(3):
        result = missed.sweep()
    assert (result.expired_proposals, result.missed_sessions) == ([], [])


# -- the "missed" email says why ---------------------------------------------------------------


def missed_mail_to(user: Any) -> str:
    subject = "A tutoring session was missed"
    (message,) = [m for m in mail.outbox if m.to == [user.email] and m.subject == subject]
    return str(message.body)


def test_the_missed_email_says_no_student_accepted(
    cast: Cast, frozen: time_machine.Traveller, mailoutbox: list[Any]
) -> None:
    session = invitation(cast)
    frozen.move_to(START)
    missed.sweep()
    run_queued_tasks()
    why = (
        "The CHEM 110 session on Mon, Mar 10 at 6:00 PM UTC was marked missed: no student "
        "accepted the invitation before it started."
    )
    assert why in missed_mail_to(cast.tutor)
    assert why in missed_mail_to(cast.student)
    # And why the email came at all, with the way to Settings.
    assert (
        "You get this email because a session you are on was canceled or missed, or its people "
        "changed (“Cancellations, removals and missed sessions” in your Settings). Choose which "
        "notifications also come by email: http://localhost:8000/settings/#email"
    ) in missed_mail_to(cast.tutor)
    assert status_of(session) == Status.MISSED


def test_the_missed_email_says_the_request_went_unanswered(
    cast: Cast, frozen: time_machine.Traveller, mailoutbox: list[Any]
) -> None:
    create_session(
        actor=cast.student,
        organization_id=cast.org.pk,
        course_id=cast.course.pk,
        mode=Mode.ONLINE,
        scheduled_start=START,
        planned_minutes=60,
        tutor_id=cast.tutor.pk,
    )
    run_queued_tasks()
    mailoutbox.clear()
    frozen.move_to(START + timedelta(minutes=60) + timedelta(hours=72))
    missed.sweep()
    run_queued_tasks()
    at = "The CHEM 110 session on Mon, Mar 10 at 6:00 PM UTC was marked missed:"
    assert f"{at} you did not answer the request before logging closed." in missed_mail_to(
        cast.tutor
    )
    assert f"{at} Tess Tutor did not answer the request before logging closed." in (
        missed_mail_to(cast.student)
    )


def test_the_missed_email_says_the_tutor_reported_nobody_came(
    cast: Cast, mailoutbox: list[Any]
) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - timedelta(hours=1)
    )
    missed.report_nobody_came(session_id=session.pk, actor=cast.tutor)
    run_queued_tasks()
    assert [m.to for m in mailoutbox if "missed" in m.subject] == [[cast.student.email]]
    assert (
        "Tess Tutor reported that nobody came to the CHEM 110 session on Mon, Mar 10 at "
        "2:00 PM UTC, so it was missed."
    ) in missed_mail_to(cast.student)
