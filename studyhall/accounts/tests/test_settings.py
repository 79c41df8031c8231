"""Sign-up asks the time zone; account settings change it, the email choices, and show the
calendar feed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse

from studyhall.accounts.models import User
from studyhall.accounts.timezones import zone_choices
from studyhall.calendars.services import feed_of
from studyhall.notifications.models import EmailPreference, Kind
from studyhall.notifications.selectors import email_choices

if TYPE_CHECKING:
    from conftest import Cast


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


# -- settings ------------------------------------------------------------------------------


def test_settings_show_the_zone_the_email_choices_and_the_feed(client: Client, cast: Cast) -> None:
    client.force_login(cast.student)
    html = page(client.get(reverse("accounts:settings")))
    assert "Times are shown in <strong>UTC</strong>" in html
    # The organization's zone is offered while the person's differs from it.
    assert "Test College is in America/New_York." in html
    for kind in Kind:
        assert kind.label in html
    assert f"http://testserver/calendar/feed/{feed_of(cast.student).token}.ics" in html


def test_changing_the_time_zone(client: Client, cast: Cast) -> None:
    client.force_login(cast.student)
    response = client.post(reverse("accounts:time_zone"), {"time_zone": "America/Chicago"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:settings") + "#time-zone"
    cast.student.refresh_from_db()
    assert cast.student.time_zone == "America/Chicago"
    html = page(client.get(reverse("accounts:settings")))
    assert "Your time zone is now America/Chicago." in html
    assert "Times are shown in <strong>America/Chicago</strong>" in html
    bad = client.post(reverse("accounts:time_zone"), {"time_zone": "Nowhere/Town"})
    assert bad.status_code == 400
    cast.student.refresh_from_db()
    assert cast.student.time_zone == "America/Chicago"


def test_a_zone_set_by_an_admin_outside_the_list_survives_the_form(
    client: Client, cast: Cast
) -> None:
    cast.student.time_zone = "US/Eastern"
    cast.student.save()
    client.force_login(cast.student)
    assert '<option value="US/Eastern" selected>' in page(client.get(reverse("accounts:settings")))
    response = client.post(reverse("accounts:time_zone"), {"time_zone": "US/Eastern"})
    assert response.status_code == 302


def test_pages_then_show_times_in_the_new_zone(client: Client, cast: Cast) -> None:
    from datetime import UTC, datetime

    from studyhall.testing import factories as f

    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student],
        start=datetime(2030, 1, 15, 15, 0, tzinfo=UTC),
    )  # fmt: skip
    client.force_login(cast.student)
    client.post(reverse("accounts:time_zone"), {"time_zone": "Asia/Tokyo"})
    html = page(client.get(reverse("tutoring:detail", args=[session.pk])))
    assert "Wed, Jan 16, 12:00 AM" in html and "Asia/Tokyo" in html


def test_choosing_which_kinds_come_by_email(client: Client, cast: Cast) -> None:
    client.force_login(cast.student)
    ticked = {kind: "on" for kind in Kind.values if kind not in (Kind.REMINDER, Kind.RECAP)}
    response = client.post(reverse("accounts:email_preferences"), ticked)
    assert response["Location"] == reverse("accounts:settings") + "#email"
    choices = email_choices(cast.student)
    assert choices[Kind.REMINDER] is False and choices[Kind.RECAP] is False
    assert choices[Kind.INVITATION] is True
    assert EmailPreference.objects.filter(user=cast.student).count() == len(Kind)
    html = page(client.get(reverse("accounts:settings")))
    assert f'name="{Kind.REMINDER.value}" id="id_{Kind.REMINDER.value}"' in html
    assert f'name="{Kind.INVITATION.value}" id="id_{Kind.INVITATION.value}" checked' in html


def test_settings_need_sign_in_and_post(client: Client, cast: Cast) -> None:
    assert client.get(reverse("accounts:settings")).status_code == 302
    client.force_login(cast.student)
    assert client.get(reverse("accounts:time_zone")).status_code == 405
    assert client.get(reverse("accounts:email_preferences")).status_code == 405
