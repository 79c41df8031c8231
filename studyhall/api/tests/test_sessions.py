"""Listing, reading, booking and answering sessions through the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.core.models import AuditEntry
from studyhall.testing import factories as f
from studyhall.tutoring.models import Participant, ParticipantState, Session, Status
from studyhall.tutoring.services.completion import complete_session

if TYPE_CHECKING:
    from conftest import Cast

ApiAs = Callable[[User | None], Api]
START = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)
NEXT_WEEK = (datetime.now(UTC) + timedelta(days=7)).isoformat()


def completed(cast: Cast, *, minutes: int = 55, start: datetime | None = None) -> Session:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=start or timezone.now() - timedelta(hours=2),
    )
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=minutes, recap=f.GOOD_RECAP)
    return session


def test_the_list_shows_the_callers_sessions_newest_first(cast: Cast, api_as: ApiAs) -> None:
    older = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=START - timedelta(days=1)
    )
    newer = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        states=[ParticipantState.ACCEPTED, ParticipantState.INVITED],
        start=START,
    )
    f.make_session(org=cast.org, tutor=cast.other_tutor, students=[cast.student2], start=START)

    response = api_as(cast.tutor).get("/sessions")

    assert response.status_code == 200
    body = response.json()
    assert [s["id"] for s in body["sessions"]] == [newer.pk, older.pk]
    assert body["limit"] == 50
    assert body["offset"] == 0
    assert body["next_offset"] is None
    assert body["sessions"][0] == {
        "id": newer.pk,
        "status": "invited",
        "mode": "in_person",
        "location": "Library room 2",
        "scheduled_start": "2031-03-04T15:00:00Z",
        "planned_minutes": 60,
        "course": {"id": cast.course.pk, "code": "CHEM 110", "title": "General Chemistry"},
        "organization": {"id": cast.org.pk, "name": "Test College"},
        "tutor": {"id": cast.tutor.pk, "email": "tutor@example.test", "name": "Tess Tutor"},
        "participants": [
            {
                "user": {"id": cast.student.pk, "email": "maya@example.test", "name": "Maya Chen"},
                "state": "accepted",
            },
            {
                "user": {"id": cast.student2.pk, "email": "sam@example.test", "name": "Sam Lee"},
                "state": "invited",
            },
        ],
        # 72 hours after the scheduled end (15:00 + 60 min).
        "completion_deadline": "2031-03-07T16:00:00Z",
        "recorded_after_the_fact": False,
        "notes": "",
        "cancel_reason": "",
        "missed_reason": "",
        "tutor_absence_reported": False,
        "minutes": None,
        "logged_minutes": None,
        "earnings": None,
        "logged_earnings": None,
        "corrections": [],
        "recap": None,
        "proposal": None,
    }


def test_a_student_sees_the_sessions_they_are_on(cast: Cast, api_as: ApiAs) -> None:
    mine = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)
    f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student2], start=START)

    response = api_as(cast.student).get("/sessions")

    assert [s["id"] for s in response.json()["sessions"]] == [mine.pk]


def test_the_list_filters_by_status(cast: Cast, api_as: ApiAs) -> None:
    f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)
    canceled = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=START,
        status=Status.CANCELED,
    )

    response = api_as(cast.tutor).get("/sessions", status="canceled")

    assert response.status_code == 200
    assert [s["id"] for s in response.json()["sessions"]] == [canceled.pk]
    assert api_as(cast.tutor).get("/sessions", status="missed").json()["sessions"] == []


def test_an_unknown_status_filter_is_400_invalid_status(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.tutor).get("/sessions", status="done")

    body = assert_problem(response, 400, "invalid_status")
    assert body["detail"] == (
        "Unknown status; use one of: requested, invited, scheduled, starting, in_progress, "
        "completed, canceled, declined, missed."
    )
    assert body["field"] == "status"


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"limit": 201}, "limit: Input should be less than or equal to 200"),
        ({"offset": -1}, "offset: Input should be greater than or equal to 0"),
        (
            {"limit": "ten"},
            "limit: Input should be a valid integer, unable to parse string as an integer",
        ),
    ],
)
def test_paging_parameters_are_checked(
    cast: Cast, api_as: ApiAs, params: dict[str, Any], detail: str
) -> None:
    body = assert_problem(api_as(cast.tutor).get("/sessions", **params), 422, "validation_error")
    assert body["detail"] == detail


def test_the_list_pages_with_limit_and_offset(cast: Cast, api_as: ApiAs) -> None:
    ids = [
        f.make_session(
            org=cast.org,
            tutor=cast.tutor,
            students=[cast.student],
            start=START + timedelta(days=n),
        ).pk
        for n in range(5)
    ]
    api = api_as(cast.tutor)

    first = api.get("/sessions", limit=2).json()
    last = api.get("/sessions", limit=2, offset=4).json()

    assert [s["id"] for s in first["sessions"]] == [ids[4], ids[3]]
    assert first["next_offset"] == 2
    assert [s["id"] for s in last["sessions"]] == [ids[0]]
    assert last["next_offset"] is None


@pytest.mark.parametrize("count", [2, 12])
def test_the_list_costs_the_same_queries_however_many_sessions(
    cast: Cast, api_as: ApiAs, django_assert_num_queries: Any, count: int
) -> None:
    for n in range(count):
        f.make_session(
            org=cast.org,
            tutor=cast.tutor,
            students=[cast.student, cast.student2],
            start=START + timedelta(hours=n),
        )
    completed(cast)  # a completed one too, with its earning
    api = api_as(cast.tutor)
    api.get("/sessions")  # the token's first use records last_used_at; not counted below

    # The token and its user, the caller's admin organizations, the sessions with course,
    # organization, tutor, completion and earning, their participants with users, and the
    # new times waiting for an answer, and the corrections of those sessions.
    with django_assert_num_queries(6):
        response = api.get("/sessions")

    assert len(response.json()["sessions"]) == count + 1


def test_the_tutor_sees_details(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])

    response = api_as(cast.tutor).get(f"/sessions/{session.pk}")

    assert response.status_code == 200
    assert response.json()["id"] == session.pk
    assert response.json()["participants"][0]["state"] == "accepted"


@pytest.mark.postgres
def test_the_tutor_admin_and_support_see_earnings_but_the_student_does_not(
    cast: Cast, api_as: ApiAs
) -> None:
    session = completed(cast, minutes=55)
    recap = {
        "topics_covered": f.GOOD_RECAP["topics_covered"],
        "tutee_progress": f.GOOD_RECAP["tutee_progress"],
        "next_steps": f.GOOD_RECAP["next_steps"],
    }

    seen = {
        who: api_as(getattr(cast, who)).get(f"/sessions/{session.pk}").json()
        for who in ("tutor", "admin", "agent", "student")
    }

    for who in ("tutor", "admin", "agent"):
        assert seen[who]["earnings"] == {"amount_cents": 1375, "currency": "USD"}, who
    assert seen["student"]["earnings"] is None
    for who in seen:
        assert seen[who]["status"] == "completed"
        assert seen[who]["logged_minutes"] == 55
        assert seen[who]["recap"] == recap
    listed = api_as(cast.student).get("/sessions").json()["sessions"]
    assert listed[0]["earnings"] is None
    assert api_as(cast.tutor).get("/sessions").json()["sessions"][0]["earnings"] == {
        "amount_cents": 1375,
        "currency": "USD",
    }


def test_another_tutor_of_the_organization_gets_403(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])

    body = assert_problem(api_as(cast.other_tutor).get(f"/sessions/{session.pk}"), 403, "forbidden")

    assert body["detail"] == "You are not part of this session."


def test_an_outsider_gets_404_as_if_it_did_not_exist(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])

    body = assert_problem(api_as(cast.outsider).get(f"/sessions/{session.pk}"), 404, "not_found")

    assert body["detail"] == "There is no such session."
    missing = api_as(cast.tutor).get(f"/sessions/{session.pk + 1000}")
    assert missing.json() == body


def test_a_tutor_invites_students(cast: Cast, api_as: ApiAs) -> None:
    start = timezone.now() + timedelta(days=2)

    response = api_as(cast.tutor).post(
        "/sessions",
        {
            "organization_id": cast.org.pk,
            "course_id": cast.course.pk,
            "mode": "online",
            "scheduled_start": start.isoformat(),
            "planned_minutes": 45,
            "notes": "Bring last week's problem set.",
            "student_ids": [cast.student.pk, cast.student2.pk],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    session = Session.objects.get()
    assert body["id"] == session.pk
    assert body["status"] == "invited"
    assert body["mode"] == "online"
    assert body["location"] == ""
    assert body["planned_minutes"] == 45
    assert body["notes"] == "Bring last week's problem set."
    assert body["tutor"]["id"] == cast.tutor.pk
    assert [(p["user"]["id"], p["state"]) for p in body["participants"]] == [
        (cast.student.pk, "invited"),
        (cast.student2.pk, "invited"),
    ]
    assert session.scheduled_start == start
    assert AuditEntry.objects.filter(action="session.created", session_id=session.pk).count() == 1


def test_a_student_requests_a_tutor(cast: Cast, api_as: ApiAs) -> None:
    start = (timezone.now() + timedelta(days=7)).replace(microsecond=0)
    response = api_as(cast.student).post(
        "/sessions",
        {
            "organization_id": cast.org.pk,
            "course_id": cast.course.pk,
            "mode": "in_person",
            "location": "Library room 4",
            "scheduled_start": start.astimezone(ZoneInfo("America/New_York")).isoformat(),
            "planned_minutes": 30,
            "tutor_id": cast.tutor.pk,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "requested"
    assert body["scheduled_start"] == start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["location"] == "Library room 4"
    assert body["tutor"]["id"] == cast.tutor.pk
    assert body["participants"] == [
        {
            "user": {"id": cast.student.pk, "email": "maya@example.test", "name": "Maya Chen"},
            "state": "accepted",
        }
    ]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"planned_minutes": 95}, 422, "invalid_duration"),
        ({"mode": "hybrid"}, 400, "invalid_mode"),
        ({"scheduled_start": "2030-03-04T10:00:00"}, 400, "invalid_start"),
        ({"student_ids": []}, 400, "no_participants"),
        ({"notes": "ok\u0000"}, 400, "invalid_input"),
        ({"planned_minutes": "30"}, 422, "validation_error"),
        ({"student_ids": [2**64]}, 422, "validation_error"),
    ],
)
def test_booking_refusals_write_nothing(
    cast: Cast, api_as: ApiAs, change: dict[str, Any], status: int, code: str
) -> None:
    payload = {
        "organization_id": cast.org.pk,
        "course_id": cast.course.pk,
        "mode": "online",
        "scheduled_start": NEXT_WEEK,
        "planned_minutes": 30,
        "student_ids": [cast.student.pk],
        **change,
    }

    assert_problem(api_as(cast.tutor).post("/sessions", payload), status, code)

    assert Session.objects.count() == 0
    assert AuditEntry.objects.exclude(action="api_token.created").count() == 0


def test_an_outsider_cannot_book_in_the_organization(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.outsider).post(
        "/sessions",
        {
            "organization_id": cast.org.pk,
            "course_id": cast.course.pk,
            "mode": "online",
            "scheduled_start": NEXT_WEEK,
            "planned_minutes": 30,
            "student_ids": [cast.student.pk],
        },
    )

    assert_problem(response, 404, "not_found")
    assert Session.objects.count() == 0


def test_an_invited_student_accepts(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], states=["invited"], start=START
    )

    response = api_as(cast.student).post(f"/sessions/{session.pk}/accept")

    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"
    assert response.json()["participants"][0]["state"] == "accepted"
    assert response.json()["earnings"] is None


def test_the_tutor_accepts_a_request(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        status=Status.REQUESTED,
        origin="request",
        start=START,
    )

    response = api_as(cast.tutor).post(f"/sessions/{session.pk}/accept")

    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"


def test_a_student_declines_with_a_message(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], states=["invited"], start=START
    )

    response = api_as(cast.student).post(
        f"/sessions/{session.pk}/decline", {"message": "I have a lab then."}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    assert response.json()["participants"][0]["state"] == "declined"
    entry = AuditEntry.objects.get(action="session.declined")
    assert entry.data == {"message": "I have a lab then."}


def test_declining_needs_no_body(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        status=Status.REQUESTED,
        origin="request",
        start=START,
    )

    response = api_as(cast.tutor).post(f"/sessions/{session.pk}/decline")

    assert response.status_code == 200
    assert response.json()["status"] == "declined"


def test_the_tutor_cancels_with_a_reason(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)

    response = api_as(cast.tutor).post(
        f"/sessions/{session.pk}/cancel", {"reason": "  I am sick.  "}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert response.json()["cancel_reason"] == "I am sick."


@pytest.mark.parametrize("body", [None, {}, {"reason": "   "}])
def test_canceling_without_a_reason_is_refused(
    cast: Cast, api_as: ApiAs, body: dict[str, Any] | None
) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)

    problem = assert_problem(
        api_as(cast.tutor).post(f"/sessions/{session.pk}/cancel", body), 400, "reason_required"
    )

    assert problem["detail"] == (
        "Say why the session is canceled; everyone on it will see the reason."
    )
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED


def test_the_tutor_removes_a_student_who_did_not_come(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        states=["accepted", "invited"],
        start=START,
    )

    response = api_as(cast.tutor).post(
        f"/sessions/{session.pk}/participants/{cast.student2.pk}/remove"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"
    assert [(p["user"]["id"], p["state"]) for p in response.json()["participants"]] == [
        (cast.student.pk, "accepted"),
        (cast.student2.pk, "removed"),
    ]


def test_a_student_cannot_remove_anyone(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        states=["accepted", "invited"],
        start=START,
    )

    response = api_as(cast.student).post(
        f"/sessions/{session.pk}/participants/{cast.student2.pk}/remove"
    )

    body = assert_problem(response, 403, "forbidden")
    assert body["detail"] == "Only the session's tutor can remove a participant."
    assert Participant.objects.get(user=cast.student2).state == "invited"


def test_removing_someone_not_on_the_session_is_404(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)

    response = api_as(cast.tutor).post(
        f"/sessions/{session.pk}/participants/{cast.student2.pk}/remove"
    )

    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "That person is not on this session."


def test_an_outsider_cannot_act_on_a_session(cast: Cast, api_as: ApiAs) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], states=["invited"], start=START
    )

    for action in ("accept", "decline", "cancel"):
        response = api_as(cast.outsider).post(f"/sessions/{session.pk}/{action}", {"reason": "x"})
        assert_problem(response, 404, "not_found")
    session.refresh_from_db()
    assert session.status == Status.INVITED
