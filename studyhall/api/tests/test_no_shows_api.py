"""No-shows over the API: a student reports an in-person session's tutor absent, an org admin
lists and decides the reports and lifts a suspension; refusals are problem+json with stable
codes and write nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.core.models import AuditEntry
from studyhall.testing import factories as f
from studyhall.tutoring.models import (
    BookingSuspension,
    Mode,
    NoShowRole,
    Session,
    TutorAbsenceReport,
)

ApiAs = Callable[[User | None], Api]
# The token and its user, the admin check, the page of sessions, and their reports.
QUERIES = 5


@pytest.fixture
def session(cast: Cast) -> Session:
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() - timedelta(minutes=20),
    )


def test_a_student_reports_and_the_session_says_so(
    cast: Cast, api_as: ApiAs, session: Session
) -> None:
    response = api_as(cast.student).post(
        f"/sessions/{session.pk}/tutor-absent", {"note": "Waited 20 minutes."}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["tutor_absence_reported"], body["missed_reason"], body["status"]) == (
        True,
        "",
        "scheduled",
    )
    assert TutorAbsenceReport.objects.get().note == "Waited 20 minutes."
    refused = api_as(cast.tutor).post(
        f"/sessions/{session.pk}/complete", {"minutes": 60, "recap": f.GOOD_RECAP}
    )
    assert_problem(refused, 409, "tutor_absence_reported")


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("tutor", 403, "forbidden"), ("outsider", 404, "not_found")],
)
def test_who_may_not_report(
    cast: Cast, api_as: ApiAs, session: Session, who: str, status: int, code: str
) -> None:
    response = api_as(getattr(cast, who)).post(f"/sessions/{session.pk}/tutor-absent")
    assert_problem(response, status, code)
    assert not TutorAbsenceReport.objects.exists()


def test_reporting_twice_and_online_sessions_are_conflicts(
    cast: Cast, api_as: ApiAs, session: Session
) -> None:
    api = api_as(cast.student)
    api.post(f"/sessions/{session.pk}/tutor-absent")
    assert_problem(api.post(f"/sessions/{session.pk}/tutor-absent"), 409, "already_reported")
    online = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() - timedelta(minutes=20),
        mode=Mode.ONLINE,
    )
    assert_problem(api.post(f"/sessions/{online.pk}/tutor-absent"), 409, "report_online_session")
    assert TutorAbsenceReport.objects.count() == 1


def test_a_note_that_is_not_text_is_bad_input(cast: Cast, api_as: ApiAs, session: Session) -> None:
    response = api_as(cast.student).post(f"/sessions/{session.pk}/tutor-absent", {"note": 5})
    assert response.status_code == 422
    assert not TutorAbsenceReport.objects.exists()


def test_the_admin_lists_and_decides_the_reports(
    cast: Cast, api_as: ApiAs, session: Session
) -> None:
    api_as(cast.student).post(f"/sessions/{session.pk}/tutor-absent")
    admin = api_as(cast.admin)

    listed = admin.get(f"/admin/orgs/{cast.org.pk}/absence-reports")
    assert listed.status_code == 200
    assert [(s["id"], len(s["reports"])) for s in listed.json()["sessions"]] == [(session.pk, 1)]

    url = f"/admin/orgs/{cast.org.pk}/sessions/{session.pk}/absence/resolve"
    assert admin.post(url, {"tutor_came": "no"}).status_code == 422
    assert_problem(api_as(cast.student).post(url, {"tutor_came": False}), 403, "forbidden")
    assert TutorAbsenceReport.objects.get().state == "open"

    decided = admin.post(url, {"tutor_came": False, "note": "Confirmed with the desk."})

    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert (body["status"], body["missed_reason"], body["tutor_absence_reported"]) == (
        "missed",
        "tutor_no_show",
        False,
    )
    assert [r["state"] for r in body["reports"]] == ["tutor_absent"]
    assert_problem(admin.post(url, {"tutor_came": True}), 409, "no_open_report")
    assert admin.get(f"/admin/orgs/{cast.org.pk}/absence-reports").json()["sessions"] == []


def test_the_admin_sees_a_persons_no_shows_and_lifts_a_suspension(
    cast: Cast, api_as: ApiAs
) -> None:
    BookingSuspension.objects.create(
        organization=cast.org,
        user=cast.student,
        role=NoShowRole.STUDENT,
        period_start=date(2025, 1, 6),
        period_end=date(2025, 5, 9),
        period_name="Spring 2025",
        no_shows=3,
    )
    admin = api_as(cast.admin)
    base = f"/admin/orgs/{cast.org.pk}/people/{cast.student.pk}"

    standing = admin.get(f"{base}/no-shows").json()
    assert (standing["student_no_shows"], standing["warning_threshold"]) == (0, 2)
    assert [(s["role"], s["no_shows"], s["period"]) for s in standing["suspensions"]] == [
        ("student", 3, "Spring 2025")
    ]

    assert_problem(
        admin.post(f"{base}/suspension/lift", {"role": "student", "reason": " "}),
        400,
        "reason_required",
    )
    assert_problem(
        admin.post(f"{base}/suspension/lift", {"role": "tutor", "reason": "Why not."}),
        409,
        "not_suspended",
    )
    assert not AuditEntry.objects.filter(action="no_show.suspension_lifted").exists()

    lifted = admin.post(f"{base}/suspension/lift", {"role": "student", "reason": "Spoke."})

    assert lifted.status_code == 200, lifted.content
    assert lifted.json()["suspensions"] == []
    outsider = f"/admin/orgs/{cast.org.pk}/people/{cast.outsider.pk}/no-shows"
    assert_problem(admin.get(outsider), 404, "not_found")
    assert_problem(api_as(cast.tutor).get(f"{base}/no-shows"), 403, "forbidden")


def test_the_report_list_is_paged_in_a_fixed_number_of_queries(
    cast: Cast, api_as: ApiAs, django_assert_num_queries: Any
) -> None:
    admin = api_as(cast.admin)
    url = f"/admin/orgs/{cast.org.pk}/absence-reports"

    def reported(count: int) -> None:
        for _ in range(count):
            s = f.make_session(
                org=cast.org,
                tutor=cast.tutor,
                students=[cast.student],
                start=timezone.now() - timedelta(minutes=30),
            )
            api_as(cast.student).post(f"/sessions/{s.pk}/tutor-absent")

    reported(2)
    admin.get(url)
    with django_assert_num_queries(QUERIES):
        first = admin.get(url, limit=2)
    reported(6)
    with django_assert_num_queries(QUERIES):
        second = admin.get(url, limit=5)
    assert (len(first.json()["sessions"]), first.json()["next_offset"]) == (2, None)
    assert (len(second.json()["sessions"]), second.json()["next_offset"]) == (5, 5)
