"""Signing in: tokens, bearer headers, the browser session and its CSRF check."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.test import Client

from studyhall.accounts.models import ApiToken, User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.testing import factories as f

if TYPE_CHECKING:
    from conftest import Cast

ApiAs = Callable[[User | None], Api]


def test_a_token_is_issued_for_the_right_password_and_then_works(cast: Cast) -> None:
    response = Client().post(
        "/api/v1/auth/token",
        {"email": "  Tutor@Example.test ", "password": f.PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    token = response.json()["token"]
    assert token.startswith("sh_")
    assert list(response.json()) == ["token"]
    assert ApiToken.objects.filter(user=cast.tutor).count() == 1
    me = Api(token=token).get("/sessions")
    assert me.status_code == 200
    assert me.json() == {"sessions": [], "limit": 50, "offset": 0, "next_offset": None}


def test_a_wrong_password_is_401_and_issues_nothing(cast: Cast) -> None:
    response = Client().post(
        "/api/v1/auth/token",
        {"email": cast.tutor.email, "password": "not-the-password"},
        content_type="application/json",
    )

    body = assert_problem(response, 401, "invalid_credentials")
    assert body["detail"] == "That email and password do not match an account."
    assert ApiToken.objects.count() == 0


def test_an_unknown_email_is_the_same_401(cast: Cast) -> None:
    response = Client().post(
        "/api/v1/auth/token",
        {"email": "nobody@example.test", "password": f.PASSWORD},
        content_type="application/json",
    )

    assert_problem(response, 401, "invalid_credentials")


def test_an_inactive_user_gets_no_token(cast: Cast) -> None:
    User.objects.filter(pk=cast.tutor.pk).update(is_active=False)

    response = Client().post(
        "/api/v1/auth/token",
        {"email": cast.tutor.email, "password": f.PASSWORD},
        content_type="application/json",
    )

    assert_problem(response, 401, "invalid_credentials")


def test_token_request_without_a_password_names_the_field(cast: Cast) -> None:
    response = Client().post(
        "/api/v1/auth/token", {"email": cast.tutor.email}, content_type="application/json"
    )

    body = assert_problem(response, 422, "validation_error")
    assert body["detail"] == "password: Field required"
    assert body["errors"] == [{"field": "password", "message": "Field required"}]


def test_a_control_character_in_the_email_is_refused_before_any_lookup(cast: Cast) -> None:
    response = Client().post(
        "/api/v1/auth/token",
        {"email": "tutor@example.test\u0000", "password": f.PASSWORD},
        content_type="application/json",
    )

    body = assert_problem(response, 400, "invalid_input")
    assert body["detail"] == (
        "Email contains an invisible control character; remove it and try again."
    )


def test_no_credentials_is_401_problem_json(db: None) -> None:
    response = Client().get("/api/v1/sessions")

    body = assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="studyhall"'
    assert body["title"] == "Authentication required"


def test_a_post_without_credentials_is_401_not_a_csrf_refusal(db: None) -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/sessions/1/accept", content_type="application/json"
    )

    assert_problem(response, 401, "not_authenticated")


def test_an_unknown_bearer_token_is_401_invalid_token(db: None) -> None:
    response = Api(token="sh_not-a-real-token").get("/sessions")

    body = assert_problem(response, 401, "invalid_token")
    assert "request a new one at POST /api/v1/auth/token" in body["detail"]


def test_a_token_stops_working_when_its_user_is_deactivated(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.tutor)
    User.objects.filter(pk=cast.tutor.pk).update(is_active=False)

    assert_problem(api.get("/sessions"), 401, "invalid_token")


def test_the_browser_session_reads_without_a_token(cast: Cast) -> None:
    browser = Client()
    browser.force_login(cast.student)

    response = browser.get("/api/v1/me/balance")

    assert response.status_code == 200
    assert response.json() == {"balances": []}


def test_the_browser_session_must_send_the_csrf_token_to_write(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], states=["invited"]
    )
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.student)

    refused = browser.post(f"/api/v1/sessions/{session.pk}/accept", content_type="application/json")

    assert_problem(refused, 403, "csrf_failed")
    session.refresh_from_db()
    assert session.status == "invited"

    # What the page's JavaScript would send: the csrftoken cookie's value, as a header.
    secret = "abcdefghijklmnopqrstuvwxyzABCDEF"
    browser.cookies["csrftoken"] = secret
    accepted = browser.post(
        f"/api/v1/sessions/{session.pk}/accept",
        content_type="application/json",
        headers={"X-CSRFToken": secret},
    )

    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "scheduled"
