"""Sign-up asks the time zone (preselected by the browser) and the person's name."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from studyhall.accounts.models import User
from studyhall.accounts.timezones import zone_choices


def page(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# -- sign-up -------------------------------------------------------------------------------


@pytest.fixture
def open_signup(settings: Any) -> None:
    # Sign-up is closed by default (studyhall.identity decides who may); these tests are about
    # the form itself, so they run with the operators' public path open.
    settings.STUDYHALL_PUBLIC_ORGANIZATION_SIGNUP = True


def test_sign_up_asks_the_time_zone_preselected_by_the_browser(
    client: Client, db: None, open_signup: None
) -> None:
    html = page(client.get(reverse("account_signup")))
    assert '<select name="time_zone"' in html and "data-detect-time-zone" in html
    assert '<option value="UTC" selected>UTC</option>' in html
    assert '<option value="America/New_York">' in html
    assert "accounts/time-zone.js" in html
    assert html.index('name="name"') < html.index('name="email"') < html.index('name="time_zone"')


def test_sign_up_stores_the_chosen_zone_and_name(
    client: Client, db: None, open_signup: None
) -> None:
    response = client.post(
        reverse("account_signup"),
        {
            "name": "Nia Novak",
            "email": "nia@example.test",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "time_zone": "Europe/Berlin",
        },
    )
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(email="nia@example.test")
    assert (user.name, user.time_zone) == ("Nia Novak", "Europe/Berlin")


def test_sign_up_refuses_an_unknown_zone_and_keeps_the_form(
    client: Client, db: None, open_signup: None
) -> None:
    response = client.post(
        reverse("account_signup"),
        {
            "name": "Nia",
            "email": "nia@example.test",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "time_zone": "Mars/Olympus_Mons",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Select a valid choice" in html and "data-detect-time-zone" not in html
    assert not User.objects.filter(email="nia@example.test").exists()


def test_the_zone_list_is_places_grouped_by_region_with_offsets() -> None:
    choices: dict[str, Any] = dict(zone_choices())
    assert choices["UTC"] == "UTC"
    europe: dict[str, str] = dict(choices["Europe"])
    assert europe["Europe/Berlin"].startswith("Berlin (UTC+0")
    assert "EST5EDT" not in choices and "US/Eastern" not in choices
