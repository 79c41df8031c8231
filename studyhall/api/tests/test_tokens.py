"""API tokens: named, expiring by default, scoped, revocable; and the token endpoint's limit on
wrong passwords."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import time_machine
from django.test import Client
from django.utils import timezone

from studyhall.accounts import tokens
from studyhall.accounts.models import ApiToken
from studyhall.api.tests.support import Api, assert_problem
from studyhall.core.models import AuditEntry
from studyhall.testing import factories as f

if TYPE_CHECKING:
    from conftest import Cast


def ask_token(email: str, password: str, **extra: object) -> Any:
    return Client().post(
        "/api/v1/auth/token",
        {"email": email, "password": password, **extra},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.7",
    )


def test_a_token_is_named_scoped_and_expires_after_30_days_by_default(cast: Cast) -> None:
    before = timezone.now()
    response = ask_token(cast.tutor.email, f.PASSWORD, name="grading script")

    assert response.status_code == 200, response.content
    row = ApiToken.objects.get(user=cast.tutor)
    assert (row.name, row.scope, row.revoked_at) == ("grading script", "full", None)
    assert row.expires_at is not None
    assert before + timedelta(days=30) <= row.expires_at <= timezone.now() + timedelta(days=30)
    entry = AuditEntry.objects.get(action="api_token.created")
    assert entry.actor == cast.tutor
    assert (entry.data["token_id"], entry.data["scope"]) == (row.pk, "full")


def test_an_expired_token_is_401_token_expired(cast: Cast) -> None:
    token = ask_token(cast.tutor.email, f.PASSWORD, expires_in_days=7).json()["token"]
    assert Api(token=token).get("/sessions").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1)):
        body = assert_problem(Api(token=token).get("/sessions"), 401, "token_expired")

    assert body["detail"].startswith("That API token (API token) expired on ")


def test_a_lifetime_over_a_year_is_refused_and_nothing_is_issued(cast: Cast) -> None:
    response = ask_token(cast.tutor.email, f.PASSWORD, expires_in_days=366)

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {"field": "expires_in_days", "message": "Input should be less than or equal to 365"}
    ]
    assert ApiToken.objects.count() == 0


def test_a_revoked_token_is_401_token_revoked_at_once(cast: Cast) -> None:
    token = ask_token(cast.tutor.email, f.PASSWORD, name="laptop").json()["token"]
    row = ApiToken.objects.get(user=cast.tutor)

    tokens.revoke_token(actor=cast.tutor, token_id=row.pk)

    body = assert_problem(Api(token=token).get("/sessions"), 401, "token_revoked")
    assert body["detail"] == (
        "That API token (laptop) was revoked; make a new one in account settings or at "
        "POST /api/v1/auth/token."
    )
    assert AuditEntry.objects.filter(action="api_token.revoked", actor=cast.tutor).count() == 1


def test_a_read_only_token_reads_but_cannot_write(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], states=["invited"]
    )
    token = ask_token(cast.student.email, f.PASSWORD, scope="read_only").json()["token"]
    api = Api(token=token)

    assert api.get("/sessions").status_code == 200
    body = assert_problem(api.post(f"/sessions/{session.pk}/accept"), 403, "token_read_only")

    assert body["detail"] == "The API token 'API token' is read-only; it cannot POST."
    session.refresh_from_db()
    assert session.status == "invited"


def test_an_admin_api_token_is_only_for_the_admin_api(cast: Cast) -> None:
    token = ask_token(cast.admin.email, f.PASSWORD, scope="admin").json()["token"]

    body = assert_problem(Api(token=token).get("/sessions"), 403, "token_scope")
    assert body["detail"] == (
        "The API token 'API token' may only call the admin API (/api/v1/admin/)."
    )


def test_only_org_admins_get_admin_api_tokens(cast: Cast) -> None:
    response = ask_token(cast.tutor.email, f.PASSWORD, scope="admin")

    body = assert_problem(response, 400, "invalid_scope")
    assert body["detail"] == "Only an organization's admins can make an admin API token."
    assert ApiToken.objects.count() == 0


def test_fifty_wrong_passwords_are_429_before_a_guess_could_succeed(cast: Cast) -> None:
    statuses = [ask_token(cast.tutor.email, f"wrong-{i}").status_code for i in range(50)]

    # Five wrong passwords per account in five minutes; from then on the answer is 429.
    assert statuses == [401] * 5 + [429] * 45
    refused = ask_token(cast.tutor.email, f.PASSWORD)
    body = assert_problem(refused, 429, "too_many_attempts")
    assert refused["Retry-After"] == "300"
    assert body["detail"] == (
        "Too many failed sign-in attempts for this account or from this address. "
        "Try again in 5 minutes."
    )
    assert ApiToken.objects.count() == 0

    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert ask_token(cast.tutor.email, f.PASSWORD).status_code == 200
    assert ApiToken.objects.filter(user=cast.tutor).count() == 1


def test_one_address_guessing_many_accounts_is_limited_too(cast: Cast) -> None:
    emails = [f"nobody{i}@example.test" for i in range(10)]
    statuses = [ask_token(email, "wrong").status_code for email in emails]
    assert statuses == [401] * 10

    # Ten failures a minute from one address, whichever accounts they were for.
    assert ask_token(cast.tutor.email, f.PASSWORD).status_code == 429
    other_address = Client().post(
        "/api/v1/auth/token",
        {"email": cast.tutor.email, "password": f.PASSWORD},
        content_type="application/json",
        REMOTE_ADDR="198.51.100.9",
    )
    assert other_address.status_code == 200


def test_a_right_password_does_not_use_up_the_limit(cast: Cast) -> None:
    for _ in range(12):
        assert ask_token(cast.tutor.email, f.PASSWORD).status_code == 200
    assert ApiToken.objects.filter(user=cast.tutor).count() == 12
