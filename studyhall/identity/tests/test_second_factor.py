"""Support agents and org admins must enrol a second factor before reaching their pages; a
wrong code is refused; recovery codes work once each; money and people actions re-ask."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.testing import factories as f

if TYPE_CHECKING:
    from conftest import Cast

ACTIVATE = "/accounts/2fa/totp/activate/"
AUTHENTICATE = "/accounts/2fa/authenticate/"


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(timezone.now().timestamp()) // 30))


def sign_in(client: Client, user: User) -> Any:
    return client.post("/accounts/login/", {"login": user.email, "password": f.PASSWORD})


def enrol(client: Client) -> str:
    # allauth asks for the password again before a factor is added.
    client.post("/accounts/reauthenticate/", {"password": f.PASSWORD})
    assert client.get(ACTIVATE).status_code == 200
    secret: str = client.session["mfa.totp.secret"]
    response = client.post(ACTIVATE, {"code": current_code(secret)})
    assert response.status_code == 302, response.content.decode()
    return secret


def without_second_factor(*users: User) -> None:
    # The personas come enrolled (tests of other pages need that); these start from scratch.
    Authenticator.objects.filter(user__in=users).delete()


def test_an_agent_cannot_reach_the_inbox_before_enrolling_and_a_wrong_code_is_refused(
    cast: Cast,
) -> None:
    without_second_factor(cast.agent)
    client = Client()
    assert sign_in(client, cast.agent).status_code == 302

    sent_away = client.get("/support/inbox/")
    assert sent_away.status_code == 302
    assert sent_away["Location"] == ACTIVATE
    asked = client.get(ACTIVATE)
    assert asked["Location"] == (
        "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
    )
    page = client.get(asked["Location"]).content.decode()
    assert "Your role can move money and read every recap" in page
    client.post("/accounts/reauthenticate/", {"password": f.PASSWORD})

    wrong = client.post(ACTIVATE, {"code": "000000"})
    assert wrong.status_code == 200
    assert "Incorrect code." in wrong.content.decode()
    assert not Authenticator.objects.filter(user=cast.agent).exists()
    assert client.get("/support/inbox/").status_code == 302

    enrol(client)

    assert Authenticator.objects.filter(user=cast.agent, type="totp").count() == 1
    assert client.get("/support/inbox/").status_code == 200


def test_an_org_admin_is_walked_to_enrolment_and_the_api_session_refuses_too(
    cast: Cast,
) -> None:
    without_second_factor(cast.admin)
    client = Client()
    sign_in(client, cast.admin)

    assert client.get(f"/console/{cast.org.pk}/")["Location"] == ACTIVATE
    refused = client.get("/api/v1/sessions")
    assert refused.status_code == 403
    assert refused.json()["code"] == "second_factor_required"


def test_students_and_tutors_need_no_second_factor(cast: Cast) -> None:
    client = Client()
    sign_in(client, cast.student)

    assert client.get("/sessions/").status_code == 200


def test_after_enrolling_sign_in_asks_the_code_and_recovery_codes_work_once(
    cast: Cast,
) -> None:
    without_second_factor(cast.agent)
    first = Client()
    sign_in(first, cast.agent)
    enrol(first)
    codes = RecoveryCodes(
        Authenticator.objects.get(user=cast.agent, type="recovery_codes")
    ).get_unused_codes()
    assert len(codes) == 10

    second = Client()
    asked = sign_in(second, cast.agent)
    assert asked["Location"] == AUTHENTICATE
    wrong = second.post(AUTHENTICATE, {"code": "123456"})
    assert "Incorrect code." in wrong.content.decode()
    assert "_auth_user_id" not in second.session
    assert second.post(AUTHENTICATE, {"code": codes[0]}).status_code == 302
    assert second.session["_auth_user_id"] == str(cast.agent.pk)
    assert second.get("/support/inbox/").status_code == 200

    third = Client()
    sign_in(third, cast.agent)
    reused = third.post(AUTHENTICATE, {"code": codes[0]})
    assert "Incorrect code." in reused.content.decode()
    assert "_auth_user_id" not in third.session
    assert third.post(AUTHENTICATE, {"code": codes[1]}).status_code == 302


def test_a_people_action_re_asks_for_the_code_after_the_idle_time(cast: Cast) -> None:
    without_second_factor(cast.admin)
    client = Client()
    sign_in(client, cast.admin)
    secret = enrol(client)
    rate_url = f"/console/{cast.org.pk}/people/{cast.tutor.pk}/rate/"

    later = timezone.now() + timedelta(minutes=16)
    with time_machine.travel(later, tick=False):
        asked = client.post(rate_url, {"hourly_rate": "20.00"})
        assert asked.status_code == 302
        assert asked["Location"].startswith("/accounts/2fa/reauthenticate/")
        # Nothing changed while the code was asked for.
        assert not cast.tutor.tutor_rates.exists()
        proved = client.post(
            "/accounts/2fa/reauthenticate/", {"code": current_code(secret)}, follow=False
        )
        assert proved.status_code == 302
