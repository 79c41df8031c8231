"""Sessions recorded after the fact: the booking form warns before one is booked, it carries a
marker everywhere it is shown, its students still accept it within its grace period, and one
nobody accepted by then becomes Missed."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from conftest import Cast
from studyhall.core.errors import Conflict
from studyhall.core.models import AuditEntry
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.models import Mode, Participant, ParticipantState, Session, Status
from studyhall.tutoring.services import missed
from studyhall.tutoring.services.scheduling import accept_session, create_session

NOW = datetime(2025, 3, 5, 18, 0, tzinfo=UTC)  # Wednesday
STARTED = NOW - timedelta(hours=3)  # 3:00 PM UTC, three hours ago
ACCEPT_BY = STARTED + timedelta(minutes=60, hours=72)
MARKER = "Recorded after the fact"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def invite(cast: Cast, *, start: datetime) -> Session:
    return create_session(
        actor=cast.tutor,
        organization_id=cast.org.pk,
        course_id=cast.course.pk,
        mode=Mode.IN_PERSON,
        location="Library room 2",
        scheduled_start=start,
        planned_minutes=60,
        student_ids=[cast.student.pk],
    )


def text_of(response: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_a_past_start_marks_the_session_and_its_audit_entry(cast: Cast) -> None:
    past = invite(cast, start=STARTED)
    future = invite(cast, start=NOW + timedelta(days=1))
    assert (past.recorded_after_the_fact, future.recorded_after_the_fact) == (True, False)
    created = AuditEntry.objects.get(action="session.created", session_id=past.pk)
    assert created.data["recorded_after_the_fact"] is True


def test_the_student_accepts_within_the_grace_period_and_not_after(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    on_time = invite(cast, start=STARTED)
    late = invite(cast, start=STARTED - timedelta(days=1))
    frozen.move_to(ACCEPT_BY)
    accept_session(session_id=on_time.pk, actor=cast.student)
    on_time.refresh_from_db()
    assert on_time.status == Status.SCHEDULED

    frozen.move_to(ACCEPT_BY + timedelta(seconds=1))
    audits = AuditEntry.objects.count()
    with pytest.raises(Conflict) as refused:
        accept_session(session_id=late.pk, actor=cast.student)
    assert refused.value.code == "acceptance_closed"
    assert str(refused.value) == (
        "This invitation can no longer be accepted: the session's grace period ended on Fri, "
        "Mar 7 at 4:00 PM UTC, so it cannot be logged."
    )
    late.refresh_from_db()
    assert late.status == Status.INVITED
    assert Participant.objects.get(session=late).state == ParticipantState.INVITED
    assert AuditEntry.objects.count() == audits


def test_one_nobody_accepted_by_the_end_of_its_grace_period_is_missed(
    cast: Cast, frozen: time_machine.Traveller
) -> None:
    session = invite(cast, start=STARTED)
    frozen.move_to(ACCEPT_BY - timedelta(seconds=1))
    assert missed.sweep().missed_sessions == []
    frozen.move_to(ACCEPT_BY)
    assert missed.sweep().missed_sessions == [session.pk]
    session.refresh_from_db()
    assert session.status == Status.MISSED


def test_the_booking_form_warns_while_a_past_start_is_typed(client: Client, cast: Cast) -> None:
    client.force_login(cast.tutor)
    params: dict[str, str | int] = {
        "course": cast.course.pk,
        "date": "2025-03-05",
        "time": "15:00",
        "minutes": "60",
        "mode": "in_person",
    }
    text = text_of(client.get(reverse("tutoring:book_allowance"), params))
    assert (
        "This start is in the past, so the session will be marked “recorded after the fact” and "
        "listed for Test College's admins. It still has to be accepted before its grace period "
        "ends on Sat, Mar 8 at 4:00 PM UTC, or it becomes Missed."
    ) in text
    text = text_of(client.get(reverse("tutoring:book_allowance"), params | {"time": "18:05"}))
    assert "recorded after the fact" not in text


def test_the_marker_shows_on_the_session_page_the_sessions_tab_and_the_email(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        session = invite(cast, start=STARTED)
    run_queued_tasks()
    for person in (cast.tutor, cast.student):
        client.force_login(person)
        page = text_of(client.get(reverse("tutoring:detail", args=[session.pk])))
        assert MARKER in page
        assert "This session was booked after its start had passed." in page
        assert MARKER in text_of(client.get(reverse("tutoring:sessions")))
    invitation = next(m for m in mail.outbox if m.to == [cast.student.email])
    assert "— recorded after the fact" in str(invitation.body)
    plain = invite(cast, start=NOW + timedelta(days=2))
    client.force_login(cast.tutor)
    assert MARKER not in text_of(client.get(reverse("tutoring:detail", args=[plain.pk])))
