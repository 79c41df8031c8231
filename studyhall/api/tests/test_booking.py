"""Booking through the API: request, invite, a new time proposed and answered, the limits as
problem+json, and what a student or tutor can book."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine

from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.core.models import AuditEntry
from studyhall.testing import factories as f
from studyhall.tutoring.models import ParticipantState, Session, Status, TimeProposal

if TYPE_CHECKING:
    from conftest import Cast

ApiAs = Callable[[User | None], Api]
NOW = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)  # Monday
START = datetime(2031, 3, 5, 15, 0, tzinfo=UTC)  # Wednesday, 10:00 AM in New York
NEW = datetime(2031, 3, 6, 18, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def request_body(cast: Cast, **change: Any) -> dict[str, Any]:
    return {
        "organization_id": cast.org.pk,
        "course_id": cast.course.pk,
        "tutor_id": cast.tutor.pk,
        "mode": "online",
        "scheduled_start": START.isoformat(),
        "planned_minutes": 60,
        "notes": "Chapter 4, please.",
        **change,
    }


def test_a_student_requests_a_session(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.student).post("/sessions/request", request_body(cast))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["scheduled_start"], body["planned_minutes"]) == (
        "requested",
        "2031-03-05T15:00:00Z",
        60,
    )
    assert body["notes"] == "Chapter 4, please."
    assert body["tutor"]["id"] == cast.tutor.pk
    assert [(p["user"]["id"], p["state"]) for p in body["participants"]] == [
        (cast.student.pk, "accepted")
    ]
    assert body["proposal"] is None


def test_the_tutor_accepts_and_both_see_it_scheduled(cast: Cast, api_as: ApiAs) -> None:
    session_id = api_as(cast.student).post("/sessions/request", request_body(cast)).json()["id"]

    accepted = api_as(cast.tutor).post(f"/sessions/{session_id}/accept")

    assert accepted.json()["status"] == "scheduled"
    assert api_as(cast.student).get(f"/sessions/{session_id}").json()["status"] == "scheduled"


def test_a_tutor_invites_a_group(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.tutor).post(
        "/sessions/invite",
        {
            "organization_id": cast.org.pk,
            "course_id": cast.course.pk,
            "student_ids": [cast.student.pk, cast.student2.pk],
            "mode": "in_person",
            "location": "Library room 4",
            "scheduled_start": START.isoformat(),
            "planned_minutes": 90,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "invited"
    assert [p["state"] for p in body["participants"]] == ["invited", "invited"]


def test_an_invitation_needs_students(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.tutor).post(
        "/sessions/invite",
        {
            "organization_id": cast.org.pk,
            "course_id": cast.course.pk,
            "student_ids": [],
            "mode": "online",
            "scheduled_start": START.isoformat(),
            "planned_minutes": 30,
        },
    )
    assert_problem(response, 400, "no_participants")


def test_a_request_missing_its_tutor_is_a_validation_error(cast: Cast, api_as: ApiAs) -> None:
    body = request_body(cast)
    del body["tutor_id"]
    problem = assert_problem(
        api_as(cast.student).post("/sessions/request", body), 422, "validation_error"
    )
    assert problem["errors"] == [{"field": "tutor_id", "message": "Field required"}]


def test_a_limit_is_a_422_limit_exceeded_with_what_is_left(cast: Cast, api_as: ApiAs) -> None:
    f.make_session(
        org=cast.org,
        tutor=cast.other_tutor,
        students=[cast.student],
        start=START - timedelta(days=2),
        minutes=90,
    )
    f.make_session(
        org=cast.org,
        tutor=cast.other_tutor,
        students=[cast.student],
        start=START - timedelta(days=1),
        minutes=45,
    )

    response = api_as(cast.student).post("/sessions/request", request_body(cast))

    problem = assert_problem(response, 422, "limit_exceeded")
    assert problem == {
        "type": "https://studyhall.dev/problems/limit_exceeded",
        "title": "Over a booking limit",
        "status": 422,
        "detail": "You have 45 minutes left for CHEM 110 this week (3 hours a week per course); "
        "this session needs 1 hour.",
        "code": "limit_exceeded",
        "limit": "student_course_weekly",
        "remaining_minutes": 45,
        "limit_minutes": 180,
        "user_id": cast.student.pk,
        "week_start": "2031-03-03",
    }
    assert Session.objects.count() == 2


def test_the_pair_limit_as_problem_json(cast: Cast, api_as: ApiAs) -> None:
    f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=START - timedelta(hours=3)
    )

    problem = assert_problem(
        api_as(cast.student).post("/sessions/request", request_body(cast)), 422, "limit_exceeded"
    )

    assert (problem["limit"], problem["remaining_minutes"], problem["day"]) == (
        "pair_daily",
        0,
        "2031-03-05",
    )


# -- a new time ---------------------------------------------------------------------------------


def scheduled(cast: Cast) -> Session:
    return f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)


def test_the_tutor_proposes_a_new_time_and_the_student_accepts(cast: Cast, api_as: ApiAs) -> None:
    session = scheduled(cast)

    proposed = api_as(cast.tutor).post(
        f"/sessions/{session.pk}/propose-time",
        {"scheduled_start": NEW.isoformat(), "planned_minutes": 45, "message": "Lab is closed"},
    )

    assert proposed.status_code == 200, proposed.content
    body = proposed.json()
    proposal = TimeProposal.objects.get()
    assert (body["status"], body["scheduled_start"]) == ("invited", "2031-03-05T15:00:00Z")
    assert body["proposal"] == {
        "id": proposal.pk,
        "proposed_by": {"id": cast.tutor.pk, "email": "tutor@example.test", "name": "Tess Tutor"},
        "by": "tutor",
        "scheduled_start": "2031-03-06T18:00:00Z",
        "planned_minutes": 45,
        "message": "Lab is closed",
        "previous_start": "2031-03-05T15:00:00Z",
        "previous_minutes": 60,
        "created_at": "2031-03-03T15:00:00Z",
    }
    # The student sees it too, in the list and on the session.
    listed = api_as(cast.student).get("/sessions").json()["sessions"]
    assert listed[0]["proposal"]["id"] == proposal.pk

    accepted = api_as(cast.student).post(f"/sessions/{session.pk}/proposal/accept")

    assert accepted.status_code == 200, accepted.content
    assert (
        accepted.json()["status"],
        accepted.json()["scheduled_start"],
        accepted.json()["planned_minutes"],
        accepted.json()["proposal"],
    ) == ("scheduled", "2031-03-06T18:00:00Z", 45, None)


def test_a_student_proposes_and_the_tutor_declines(cast: Cast, api_as: ApiAs) -> None:
    session = scheduled(cast)
    proposed = api_as(cast.student).post(
        f"/sessions/{session.pk}/propose-time", {"scheduled_start": NEW.isoformat()}
    )
    assert proposed.json()["status"] == "requested"
    assert proposed.json()["proposal"]["by"] == "student"

    declined = api_as(cast.tutor).post(
        f"/sessions/{session.pk}/proposal/decline", {"message": "Thursday is full"}
    )

    assert declined.status_code == 200, declined.content
    assert (declined.json()["status"], declined.json()["proposal"]) == ("scheduled", None)
    assert TimeProposal.objects.get().answer_message == "Thursday is full"


def test_declining_a_new_time_needs_no_body(cast: Cast, api_as: ApiAs) -> None:
    session = scheduled(cast)
    api_as(cast.tutor).post(
        f"/sessions/{session.pk}/propose-time", {"scheduled_start": NEW.isoformat()}
    )
    assert api_as(cast.student).post(f"/sessions/{session.pk}/proposal/decline").status_code == 200


def test_accepting_the_session_while_a_new_time_waits_is_409(cast: Cast, api_as: ApiAs) -> None:
    session = scheduled(cast)
    api_as(cast.tutor).post(
        f"/sessions/{session.pk}/propose-time", {"scheduled_start": NEW.isoformat()}
    )

    problem = assert_problem(
        api_as(cast.student).post(f"/sessions/{session.pk}/accept"), 409, "proposal_pending"
    )
    assert problem["proposal_id"] == TimeProposal.objects.get().pk


def test_answering_when_nothing_waits_is_409_no_proposal(cast: Cast, api_as: ApiAs) -> None:
    session = scheduled(cast)
    assert_problem(
        api_as(cast.student).post(f"/sessions/{session.pk}/proposal/accept"), 409, "no_proposal"
    )


def test_a_new_time_over_a_limit_is_422(cast: Cast, api_as: ApiAs) -> None:
    session = scheduled(cast)
    f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NEW - timedelta(hours=2)
    )

    problem = assert_problem(
        api_as(cast.tutor).post(
            f"/sessions/{session.pk}/propose-time", {"scheduled_start": NEW.isoformat()}
        ),
        422,
        "limit_exceeded",
    )

    assert problem["limit"] == "pair_daily"
    assert not TimeProposal.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"scheduled_start": "2031-03-06T18:00:00"}, "invalid_start"),
        ({"scheduled_start": "2031-03-06T18:00:00Z", "planned_minutes": 95}, "invalid_duration"),
        ({"scheduled_start": "2031-03-06T18:00:00Z", "planned_minutes": "45"}, "validation_error"),
        ({"scheduled_start": "2031-03-01T18:00:00Z"}, "start_in_past"),
        ({}, "validation_error"),
    ],
)
def test_a_bad_new_time_is_refused(
    cast: Cast, api_as: ApiAs, body: dict[str, Any], code: str
) -> None:
    session = scheduled(cast)
    response = api_as(cast.tutor).post(f"/sessions/{session.pk}/propose-time", body)
    assert response.status_code in (400, 422)
    assert response.json()["code"] == code
    assert not TimeProposal.objects.exists()
    assert not AuditEntry.objects.exclude(action="api_token.created").exists()


def test_an_ended_session_is_409_invalid_transition(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=START, status=Status.CANCELED
    )
    for path, body in [
        ("accept", None),
        ("propose-time", {"scheduled_start": NEW.isoformat()}),
        ("cancel", {"reason": "again"}),
    ]:
        problem = assert_problem(
            api_as(cast.tutor).post(f"/sessions/{session.pk}/{path}", body),
            409,
            "invalid_transition",
        )
        assert problem["detail"]


def test_an_outsider_cannot_propose(cast: Cast, api_as: ApiAs) -> None:
    session = scheduled(cast)
    assert_problem(
        api_as(cast.outsider).post(
            f"/sessions/{session.pk}/propose-time", {"scheduled_start": NEW.isoformat()}
        ),
        404,
        "not_found",
    )
    assert_problem(
        api_as(cast.student2).post(
            f"/sessions/{session.pk}/propose-time", {"scheduled_start": NEW.isoformat()}
        ),
        403,
        "forbidden",
    )


def test_the_tutor_reports_that_nobody_came(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - timedelta(hours=1)
    )
    response = api_as(cast.tutor).post(f"/sessions/{session.pk}/nobody-came")
    assert response.json()["status"] == "missed"
    assert_problem(
        api_as(cast.student).post(f"/sessions/{session.pk}/nobody-came"), 403, "forbidden"
    )


# -- what can be booked ----------------------------------------------------------------------------


def test_booking_options(cast: Cast, api_as: ApiAs) -> None:
    student = api_as(cast.student).get("/sessions/booking/options").json()
    assert student == {
        "taking": [
            {
                "course": {"id": cast.course.pk, "code": "CHEM 110", "title": "General Chemistry"},
                "organization": {"id": cast.org.pk, "name": "Test College"},
                "people": [
                    {"id": cast.other_tutor.pk, "email": "otto@example.test", "name": "Otto Tutor"},
                    {"id": cast.tutor.pk, "email": "tutor@example.test", "name": "Tess Tutor"},
                ],
            }
        ],
        "tutoring": [],
    }
    tutor = api_as(cast.tutor).get("/sessions/booking/options").json()
    assert tutor["taking"] == []
    assert [p["name"] for p in tutor["tutoring"][0]["people"]] == ["Maya Chen", "Sam Lee"]


def test_allowance_before_booking(cast: Cast, api_as: ApiAs) -> None:
    f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student2], start=START, minutes=90
    )

    response = api_as(cast.student).get(
        "/sessions/booking/allowance",
        course_id=cast.course.pk,
        tutor_id=cast.tutor.pk,
        start=(START + timedelta(hours=4)).isoformat(),
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "week_start": "2031-03-03",
        "day": "2031-03-05",
        "max_session_minutes": 90,
        "pair_sessions_per_day": 1,
        "student_weekly_minutes_per_course": 180,
        "tutor_weekly_minutes": 900,
        "tutor_minutes_left": 810,
        "students": [
            {
                "user": {"id": cast.student.pk, "email": "maya@example.test", "name": "Maya Chen"},
                "course_minutes_left": 180,
                "sessions_with_tutor_that_day": 0,
            }
        ],
    }
    for_sam = (
        api_as(cast.tutor)
        .get(
            "/sessions/booking/allowance",
            course_id=cast.course.pk,
            tutor_id=cast.tutor.pk,
            start=START.isoformat(),
            student_ids=[cast.student2.pk],
        )
        .json()
    )
    assert for_sam["students"][0]["course_minutes_left"] == 90
    assert for_sam["students"][0]["sessions_with_tutor_that_day"] == 1


def test_an_outsider_gets_no_allowance(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.outsider).get(
        "/sessions/booking/allowance",
        course_id=cast.course.pk,
        tutor_id=cast.tutor.pk,
        start=START.isoformat(),
    )
    assert_problem(response, 404, "not_found")


def test_accepting_is_checked_against_the_limits_again(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        states=[ParticipantState.INVITED],
        start=START,
        minutes=90,
    )
    cast.org.student_weekly_minutes_per_course = 60
    cast.org.save()

    problem = assert_problem(
        api_as(cast.student).post(f"/sessions/{session.pk}/accept"), 422, "limit_exceeded"
    )

    assert (problem["limit"], problem["remaining_minutes"]) == ("student_course_weekly", 60)


def test_a_student_cannot_read_another_students_allowance(cast: Cast, api_as: ApiAs) -> None:
    query: dict[str, Any] = {
        "course_id": cast.course.pk,
        "tutor_id": cast.tutor.pk,
        "start": START.isoformat(),
        "student_ids": [cast.student2.pk],
    }
    refused = api_as(cast.student).get("/sessions/booking/allowance", **query)
    body = assert_problem(refused, 403, "allowance_of_others")
    assert "sam@example.test" not in refused.content.decode()
    assert body["detail"].startswith("You can see only your own booking allowance")
    both: dict[str, Any] = {**query, "student_ids": [cast.student.pk, cast.student2.pk]}
    both_response = api_as(cast.student).get("/sessions/booking/allowance", **both)
    assert_problem(both_response, 403, "allowance_of_others")
    # Their own, the tutor being booked, and the org admin may ask.
    own = api_as(cast.student).get(
        "/sessions/booking/allowance", **{**query, "student_ids": [cast.student.pk]}
    )
    assert own.status_code == 200
    for viewer in (cast.tutor, cast.admin):
        allowed = api_as(viewer).get("/sessions/booking/allowance", **query)
        assert allowed.status_code == 200, allowed.content
        assert [s["user"]["email"] for s in allowed.json()["students"]] == ["sam@example.test"]
    # Another tutor of the organization is not the one being booked.
    assert_problem(
        api_as(cast.other_tutor).get("/sessions/booking/allowance", **query),
        403,
        "allowance_of_others",
    )
