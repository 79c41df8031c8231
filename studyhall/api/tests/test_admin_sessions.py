"""The admin API's sessions: book one for a tutor, cancel one with a reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import Role
from studyhall.testing import factories as f
from studyhall.tutoring.models import Participant, Session, Status

ApiAs = Callable[[User | None], Api]


def _body(cast: Cast, **overrides: Any) -> dict[str, Any]:
    body = {
        "tutor_id": cast.tutor.pk,
        "course_id": cast.course.pk,
        "student_ids": [cast.student.pk],
        "mode": "in_person",
        "location": "Learning center",
        "scheduled_start": (timezone.now() - timedelta(hours=1)).isoformat(),
        "planned_minutes": 30,
    }
    body.update(overrides)
    return body


def test_an_admin_books_a_walk_in_for_a_tutor(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.admin).post(f"/admin/orgs/{cast.org.pk}/sessions", _body(cast))
    assert response.status_code == 201, response.content
    session = Session.objects.get()
    assert response.json() == {
        "id": session.pk,
        "course_code": "CHEM 110",
        "tutor_id": cast.tutor.pk,
        "tutor_email": "tutor@example.test",
        "student_emails": ["maya@example.test"],
        "mode": "in_person",
        "status": "invited",
        "scheduled_start": response.json()["scheduled_start"],
        "planned_minutes": 30,
        "flagged": False,
    }
    assert (session.created_by, session.recorded_after_the_fact) == (cast.admin, True)


def test_a_student_outside_the_course_is_a_problem_and_nothing_is_written(
    cast: Cast, api_as: ApiAs
) -> None:
    newcomer = f.add_member(cast.org, f.make_user(email="nia@example.test", name="Nia New"),
                            Role.STUDENT)  # fmt: skip
    response = api_as(cast.admin).post(
        f"/admin/orgs/{cast.org.pk}/sessions", _body(cast, student_ids=[newcomer.pk])
    )
    body = assert_problem(response, 422, "not_enrolled")
    assert body["detail"] == "Nia New is not enrolled in CHEM 110."
    assert (Session.objects.count(), Participant.objects.count()) == (0, 0)
    assert not AuditEntry.objects.filter(action="session.created").exists()


def test_an_admin_cancels_through_the_api(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student],
                             start=timezone.now() + timedelta(days=1))  # fmt: skip
    path = f"/admin/orgs/{cast.org.pk}/sessions/{session.pk}/cancel"
    response = api_as(cast.admin).post(path, {"reason": "Room unavailable"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "canceled"
    session.refresh_from_db()
    assert (session.status, session.cancel_reason, session.canceled_by) == (
        Status.CANCELED,
        "Room unavailable",
        cast.admin,
    )


def test_cancelling_a_completed_session_is_a_conflict(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student],
                             status=Status.COMPLETED)  # fmt: skip
    path = f"/admin/orgs/{cast.org.pk}/sessions/{session.pk}/cancel"
    assert_problem(api_as(cast.admin).post(path, {"reason": "Oops"}), 409, "invalid_transition")
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == (Status.COMPLETED, "")
    assert not AuditEntry.objects.filter(session=session).exists()


def test_cancelling_needs_a_reason(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student],
                             start=timezone.now() + timedelta(days=1))  # fmt: skip
    path = f"/admin/orgs/{cast.org.pk}/sessions/{session.pk}/cancel"
    assert_problem(api_as(cast.admin).post(path, {"reason": " "}), 400, "reason_required")
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED
