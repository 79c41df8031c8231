"""Whatever a client sends, the answer is a 4xx problem+json with a message: never a 500,
never a traceback, and nothing written. (Also on PostgreSQL, which refuses NUL characters.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.ledger.models import Transfer
from studyhall.testing import factories as f
from studyhall.tutoring.models import Completion, Session, Status

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = pytest.mark.postgres

ApiAs = Callable[[User | None], Api]
RECAP = dict(f.GOOD_RECAP)


@pytest.fixture
def session(cast: Cast) -> Session:
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() - timedelta(hours=1),
    )


@pytest.fixture
def tutor(cast: Cast, api_as: ApiAs) -> Api:
    return api_as(cast.tutor)


def assert_untouched(session: Session) -> None:
    assert Completion.objects.count() == 0
    assert Transfer.objects.count() == 0
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (
            '{"minutes": 55,',
            "The request body is not valid JSON: Expecting property name enclosed in double "
            "quotes at line 1, column 16.",
        ),
        ("minutes=55", "The request body is not valid JSON: Expecting value at line 1, column 1."),
        (b'{"minutes": 55, "recap": "\xff\xfe"}', "The request body is not valid UTF-8 JSON."),
        ("[" * 60_000, "The request body nests too deeply."),
    ],
)
def test_malformed_json_is_400_malformed_json(
    session: Session, tutor: Api, raw: str | bytes, detail: str
) -> None:
    response = tutor.post(f"/sessions/{session.pk}/complete", raw=raw)

    body = assert_problem(response, 400, "malformed_json")
    assert body["title"] == "Malformed JSON"
    assert body["detail"] == detail
    assert_untouched(session)


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"minutes": "55", "recap": RECAP}, "minutes: Input should be a valid integer"),
        ({"minutes": 55.0, "recap": RECAP}, "minutes: Input should be a valid integer"),
        ({"minutes": 55.5, "recap": RECAP}, "minutes: Input should be a valid integer"),
        ({"minutes": True, "recap": RECAP}, "minutes: Input should be a valid integer"),
        ({"minutes": None, "recap": RECAP}, "minutes: Input should be a valid integer"),
        ({"recap": RECAP}, "minutes: Field required"),
        (
            {"minutes": 55, "recap": "We covered limits."},
            "recap: Input should be a JSON object",
        ),
        (
            {"minutes": 55, "recap": {**RECAP, "next_steps": 42}},
            "recap.next_steps: Input should be a valid string",
        ),
        (
            {"minutes": 55, "recap": {**RECAP, "topics_covered": ["limits"]}},
            "recap.topics_covered: Input should be a valid string",
        ),
    ],
)
def test_wrong_types_are_422_validation_error_naming_the_field(
    session: Session, tutor: Api, payload: dict[str, Any], detail: str
) -> None:
    response = tutor.post(f"/sessions/{session.pk}/complete", payload)

    body = assert_problem(response, 422, "validation_error")
    assert body["detail"] == detail
    assert body["errors"][0]["field"] == detail.split(":")[0]
    assert_untouched(session)


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ("[55]", "body: must be a JSON object, not an array."),
        ('"55"', "body: must be a JSON object, not a string."),
        ("55", "body: must be a JSON object, not a number."),
        ("null", "body: must be a JSON object, not null."),
    ],
)
def test_a_body_that_is_not_an_object_is_422(
    session: Session, tutor: Api, raw: str, detail: str
) -> None:
    body = assert_problem(
        tutor.post(f"/sessions/{session.pk}/complete", raw=raw), 422, "validation_error"
    )

    assert body["detail"] == detail
    assert_untouched(session)


def test_an_empty_body_is_422(session: Session, tutor: Api) -> None:
    body = assert_problem(tutor.post(f"/sessions/{session.pk}/complete"), 422, "validation_error")

    assert body["detail"] == "body: Field required"
    assert_untouched(session)


def test_a_100_kb_recap_is_413_payload_too_large(session: Session, tutor: Api) -> None:
    payload = {"minutes": 55, "recap": {**RECAP, "topics_covered": "x" * 100_000}}

    body = assert_problem(
        tutor.post(f"/sessions/{session.pk}/complete", payload), 413, "payload_too_large"
    )

    assert body["detail"].startswith("The request body is 100,")
    assert body["detail"].endswith(" bytes; this API accepts at most 64 KiB.")
    assert_untouched(session)


def test_a_body_over_djangos_own_limit_is_413_too(session: Session, tutor: Api) -> None:
    body = assert_problem(
        tutor.post(f"/sessions/{session.pk}/complete", raw="x" * 3_000_000),
        413,
        "payload_too_large",
    )

    assert body["detail"] == "The request body is too large; send less."
    assert_untouched(session)


def test_an_answer_over_4000_characters_is_text_too_long(session: Session, tutor: Api) -> None:
    payload = {"minutes": 55, "recap": {**RECAP, "next_steps": "y" * 4001}}

    body = assert_problem(
        tutor.post(f"/sessions/{session.pk}/complete", payload), 400, "text_too_long"
    )

    assert body["detail"] == "Next steps is 4,001 characters long; keep it under 4,000."
    assert body["field"] == "Next steps"
    assert_untouched(session)


@pytest.mark.parametrize("char", ["\u0000", "\u0007", "\u001b", "\ud800"])
def test_a_control_character_in_the_recap_is_400_invalid_input(
    session: Session, tutor: Api, char: str
) -> None:
    payload = {"minutes": 55, "recap": {**RECAP, "tutee_progress": f"Did well{char}."}}

    body = assert_problem(
        tutor.post(f"/sessions/{session.pk}/complete", payload), 400, "invalid_input"
    )

    assert body["detail"] == (
        "How your tutee did contains an invisible control character; remove it and try again."
    )
    assert_untouched(session)


def test_a_control_character_in_a_cancel_reason_is_refused(session: Session, tutor: Api) -> None:
    response = tutor.post(f"/sessions/{session.pk}/cancel", {"reason": "sick\u0000"})

    body = assert_problem(response, 400, "invalid_input")
    assert body["detail"] == (
        "Reason contains an invisible control character; remove it and try again."
    )
    assert_untouched(session)


def test_a_control_character_in_the_status_filter_is_invalid_status(tutor: Api) -> None:
    assert_problem(tutor.get("/sessions", status="completed\u0000"), 400, "invalid_status")


def test_an_unknown_path_is_a_404_problem(tutor: Api) -> None:
    body = assert_problem(tutor.get("/sessions/abc"), 404, "not_found")

    assert body["detail"] == "There is no API endpoint at /api/v1/sessions/abc; see /api/v1/docs."
    assert_problem(Client().post("/api/v1/nothing/here"), 404, "not_found")


def test_an_enormous_session_id_is_simply_not_found(tutor: Api) -> None:
    body = assert_problem(tutor.get(f"/sessions/{10**30}"), 404, "not_found")

    assert body["detail"] == "There is no such session."


def test_the_openapi_schema_and_docs_are_served(db: None) -> None:
    schema = Client().get("/api/v1/openapi.json")
    docs = Client().get("/api/v1/docs")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    # The org admins' endpoints (/api/v1/admin/...) have their own tests.
    assert "/api/v1/admin/orgs/{org_id}/policy" in paths
    assert [p for p in sorted(paths) if not p.startswith("/api/v1/admin/")] == [
        "/api/v1/auth/token",
        "/api/v1/me/balance",
        "/api/v1/me/payouts",
        "/api/v1/me/transactions",
        "/api/v1/notifications",
        "/api/v1/notifications/read-all",
        "/api/v1/notifications/{notification_id}/read",
        "/api/v1/payouts/batches",
        "/api/v1/payouts/batches/{batch_id}",
        "/api/v1/payouts/batches/{batch_id}/mark-paid",
        "/api/v1/payouts/batches/{batch_id}/payroll.csv",
        "/api/v1/payouts/stripe/webhook",
        "/api/v1/payouts/{payout_id}/fail",
        "/api/v1/sessions",
        "/api/v1/sessions/booking/allowance",
        "/api/v1/sessions/booking/options",
        "/api/v1/sessions/invite",
        "/api/v1/sessions/ratings/{rating_id}/hide",
        "/api/v1/sessions/request",
        "/api/v1/sessions/{session_id}",
        "/api/v1/sessions/{session_id}/accept",
        "/api/v1/sessions/{session_id}/cancel",
        "/api/v1/sessions/{session_id}/complete",
        "/api/v1/sessions/{session_id}/confirm",
        "/api/v1/sessions/{session_id}/decline",
        "/api/v1/sessions/{session_id}/dispute",
        "/api/v1/sessions/{session_id}/dispute/uphold",
        "/api/v1/sessions/{session_id}/nobody-came",
        "/api/v1/sessions/{session_id}/participants/{user_id}/remove",
        "/api/v1/sessions/{session_id}/proposal/accept",
        "/api/v1/sessions/{session_id}/proposal/decline",
        "/api/v1/sessions/{session_id}/propose-time",
        "/api/v1/sessions/{session_id}/rating",
        "/api/v1/sessions/{session_id}/tutor-absent",
    ]
    complete = paths["/api/v1/sessions/{session_id}/complete"]["post"]
    assert {p["name"] for p in complete["parameters"]} == {"session_id", "Idempotency-Key"}
    assert docs.status_code == 200
    assert docs["Content-Type"].startswith("text/html")


def test_a_wrong_method_is_405_naming_the_allowed_one(session: Session, tutor: Api) -> None:
    response = tutor.get(f"/sessions/{session.pk}/complete")

    # ninja answers this itself, before any handler of ours runs: plain text, not a problem.
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.content == b"Method not allowed"
