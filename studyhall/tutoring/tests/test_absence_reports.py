"""In person, "My tutor didn't come": an accepted student reports it from the start until
logging closes; the session is flagged and cannot be completed until an org admin decides
that the tutor came (completion unblocked, the reporter told) or did not (missed as a tutor
no-show, counted). Every refusal writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import time_machine

from studyhall.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from studyhall.core.models import AuditEntry
from studyhall.notifications.models import Notification
from studyhall.testing import factories as f
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.models import (
    AbsenceReportState,
    Mode,
    Session,
    Status,
    TutorAbsenceReport,
)
from studyhall.tutoring.no_shows import counting_period, no_shows_of
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.no_shows import report_tutor_absent, resolve_absence

if TYPE_CHECKING:
    from conftest import Cast

NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
START = NOW - timedelta(minutes=20)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def session(cast: Cast) -> Session:
    return f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2], start=START
    )


def log(cast: Cast, session: Session) -> None:
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)


def written() -> tuple[int, int]:
    return TutorAbsenceReport.objects.count(), AuditEntry.objects.count()


def test_a_report_flags_the_session_and_blocks_completion(cast: Cast, session: Session) -> None:
    report = report_tutor_absent(session_id=session.pk, actor=cast.student, note="Waited 20 min.")

    session.refresh_from_db()
    assert (report.state, report.note, session.tutor_absence_reported_at) == (
        AbsenceReportState.OPEN,
        "Waited 20 min.",
        NOW,
    )
    entry = AuditEntry.objects.get(action="session.tutor_absence_reported")
    assert (entry.actor_id, entry.data) == (
        cast.student.pk,
        {"report_id": report.pk, "note": "Waited 20 min."},
    )
    with pytest.raises(Conflict) as raised:
        log(cast, session)
    assert raised.value.code == "tutor_absence_reported"
    assert raised.value.message == (
        "A student reported that the tutor did not come. The session can be logged once an org "
        "admin has decided the report."
    )
    run_queued_tasks()
    assert Notification.objects.get(user=cast.tutor, event="absence_reported").title == (
        "A student reported that you did not come to the CHEM 110 session on Mon, Mar 10 at "
        "2:40 PM UTC. An org admin will decide; until then the session cannot be logged."
    )


def test_the_tutor_came_unblocks_completion_and_tells_the_reporter(
    cast: Cast, session: Session
) -> None:
    report_tutor_absent(session_id=session.pk, actor=cast.student)

    resolve_absence(session_id=session.pk, actor=cast.admin, tutor_came=True, note="Sign-in sheet")

    session.refresh_from_db()
    assert (session.status, session.tutor_absence_reported_at) == (Status.SCHEDULED, None)
    report = TutorAbsenceReport.objects.get()
    assert (report.state, report.resolved_by_id, report.resolution_note) == (
        AbsenceReportState.TUTOR_CAME,
        cast.admin.pk,
        "Sign-in sheet",
    )
    entry = AuditEntry.objects.get(action="session.tutor_absence_resolved")
    assert entry.data == {"tutor_came": True, "report_ids": [report.pk], "note": "Sign-in sheet"}
    run_queued_tasks()
    assert Notification.objects.get(user=cast.student, event="absence_resolved").title == (
        "An org admin found that Tess Tutor came to the CHEM 110 session on Mon, Mar 10 at "
        "2:40 PM UTC; the tutor can log it now."
    )
    log(cast, session)
    session.refresh_from_db()
    assert session.status == Status.COMPLETED


def test_the_tutor_did_not_come_misses_the_session_and_counts(cast: Cast, session: Session) -> None:
    report_tutor_absent(session_id=session.pk, actor=cast.student)
    report_tutor_absent(session_id=session.pk, actor=cast.student2)

    resolve_absence(session_id=session.pk, actor=cast.admin, tutor_came=False)

    session.refresh_from_db()
    assert (session.status, session.missed_reason, session.tutor_absence_reported_at) == (
        Status.MISSED,
        "tutor_no_show",
        None,
    )
    assert set(TutorAbsenceReport.objects.values_list("state", flat=True)) == {"tutor_absent"}
    period = counting_period(cast.org, today=NOW.date())
    assert no_shows_of(cast.org, cast.tutor.pk, role="tutor", period=period) == 1
    missed = AuditEntry.objects.get(action="session.missed")
    assert (missed.actor_id, missed.data) == (cast.admin.pk, {"reason": "tutor_no_show"})
    run_queued_tasks()
    rebook = f"/sessions/book/?course={cast.course.pk}"
    assert set(
        Notification.objects.filter(event="tutor_no_show", link=rebook).values_list(
            "user_id", flat=True
        )
    ) == {cast.student.pk, cast.student2.pk}
    assert Notification.objects.get(user=cast.tutor, event="tutor_no_show").title.endswith(
        "an org admin found you did not come."
    )
    with pytest.raises(Conflict) as raised:
        log(cast, session)
    assert raised.value.code == "session_not_completable"


@pytest.mark.parametrize(
    ("who", "error", "code"),
    [
        ("tutor", Forbidden, None),
        ("other_tutor", Forbidden, None),
        ("admin", Forbidden, None),
        ("outsider", NotFound, None),  # another organization: it does not exist for them
    ],
)
def test_only_an_accepted_student_reports(
    cast: Cast, session: Session, who: str, error: type[DomainError], code: str | None
) -> None:
    before = written()
    with pytest.raises(error):
        report_tutor_absent(session_id=session.pk, actor=getattr(cast, who))
    assert written() == before


def test_a_student_cannot_report_twice(cast: Cast, session: Session) -> None:
    report_tutor_absent(session_id=session.pk, actor=cast.student)
    before = written()

    with pytest.raises(Conflict) as raised:
        report_tutor_absent(session_id=session.pk, actor=cast.student)

    assert raised.value.code == "already_reported"
    assert written() == before


def test_before_the_start_and_after_logging_closes_there_is_nothing_to_report(
    cast: Cast, session: Session, frozen: time_machine.Traveller
) -> None:
    frozen.move_to(START - timedelta(seconds=1))
    with pytest.raises(Conflict) as early:
        report_tutor_absent(session_id=session.pk, actor=cast.student)
    frozen.move_to(START + timedelta(minutes=60, hours=72, seconds=1))
    with pytest.raises(Conflict) as late:
        report_tutor_absent(session_id=session.pk, actor=cast.student)

    assert (early.value.code, late.value.code) == ("session_not_started", "report_closed")
    assert written() == (0, 0)


def test_an_online_sessions_classroom_decides_instead(cast: Cast) -> None:
    online = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=START, mode=Mode.ONLINE
    )
    with pytest.raises(Conflict) as raised:
        report_tutor_absent(session_id=online.pk, actor=cast.student)
    assert raised.value.code == "report_online_session"
    assert written() == (0, 0)


def test_a_completed_session_cannot_be_reported(cast: Cast, session: Session) -> None:
    log(cast, session)
    before = written()
    with pytest.raises(Conflict) as raised:
        report_tutor_absent(session_id=session.pk, actor=cast.student)
    assert raised.value.code == "invalid_transition"
    assert written() == before


def test_a_note_too_long_is_refused(cast: Cast, session: Session) -> None:
    with pytest.raises(InvalidInput):
        report_tutor_absent(session_id=session.pk, actor=cast.student, note="x" * 1001)
    assert written() == (0, 0)


def test_only_an_org_admin_decides_and_only_an_open_report(cast: Cast, session: Session) -> None:
    with pytest.raises(Conflict) as nothing:
        resolve_absence(session_id=session.pk, actor=cast.admin, tutor_came=True)
    assert nothing.value.code == "no_open_report"
    report_tutor_absent(session_id=session.pk, actor=cast.student)
    before = written()

    with pytest.raises(Forbidden):
        resolve_absence(session_id=session.pk, actor=cast.tutor, tutor_came=True)
    with pytest.raises(InvalidInput) as bad:
        resolve_absence(session_id=session.pk, actor=cast.admin, tutor_came="yes")  # type: ignore[arg-type]

    assert bad.value.code == "invalid_resolution"
    assert written() == before
    session.refresh_from_db()
    assert session.tutor_absence_reported_at == NOW
