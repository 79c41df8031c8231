"""The Settings page changes the time zone and the email choices, and shows the calendar feed
(a section the calendars app adds)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.test import Client
from django.urls import reverse

from studyhall.calendars.services import feed_of
from studyhall.notifications.models import EmailPreference, Kind
from studyhall.notifications.selectors import email_choices

if TYPE_CHECKING:
    from conftest import Cast


def page(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# -- settings ------------------------------------------------------------------------------


def test_settings_show_the_zone_the_email_choices_and_the_feed(client: Client, cast: Cast) -> None:
    client.force_login(cast.student)
    html = page(client.get(reverse("settings:page")))
    assert "Times are shown in <strong>UTC</strong>" in html
    # The organization's zone is offered while the person's differs from it.
    assert "Test College is in America/New_York." in html
    for kind in Kind:
        assert kind.label in html
    assert f"http://testserver/calendar/feed/{feed_of(cast.student).token}.ics" in html


def test_changing_the_time_zone(client: Client, cast: Cast) -> None:
    client.force_login(cast.student)
    response = client.post(reverse("settings:time_zone"), {"time_zone": "America/Chicago"})
    assert response.status_code == 302
    assert response["Location"] == reverse("settings:page") + "#time-zone"
    cast.student.refresh_from_db()
    assert cast.student.time_zone == "America/Chicago"
    html = page(client.get(reverse("settings:page")))
    assert "Your time zone is now America/Chicago." in html
    assert "Times are shown in <strong>America/Chicago</strong>" in html
    bad = client.post(reverse("settings:time_zone"), {"time_zone": "Nowhere/Town"})
    assert bad.status_code == 400
    cast.student.refresh_from_db()
    assert cast.student.time_zone == "America/Chicago"


def test_a_zone_set_by_an_admin_outside_the_list_survives_the_form(
    client: Client, cast: Cast
) -> None:
    cast.student.time_zone = "US/Eastern"
    cast.student.save()
    client.force_login(cast.student)
    assert '<option value="US/Eastern" selected>' in page(client.get(reverse("settings:page")))
    response = client.post(reverse("settings:time_zone"), {"time_zone": "US/Eastern"})
    assert response.status_code == 302


def test_pages_then_show_times_in_the_new_zone(client: Client, cast: Cast) -> None:
    from datetime import UTC, datetime

    from studyhall.testing import factories as f

    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student],
        start=datetime(2030, 1, 15, 15, 0, tzinfo=UTC),
    )  # fmt: skip
    client.force_login(cast.student)
    client.post(reverse("settings:time_zone"), {"time_zone": "Asia/Tokyo"})
    html = page(client.get(reverse("tutoring:detail", args=[session.pk])))
    assert "Wed, Jan 16, 12:00 AM" in html and "Asia/Tokyo" in html


def test_choosing_which_kinds_come_by_email(client: Client, cast: Cast) -> None:
    client.force_login(cast.student)
    ticked = {kind: "on" for kind in Kind.values if kind not in (Kind.REMINDER, Kind.RECAP)}
    response = client.post(reverse("settings:email_preferences"), ticked)
    assert response["Location"] == reverse("settings:page") + "#email"
    choices = email_choices(cast.student)
    assert choices[Kind.REMINDER] is False and choices[Kind.RECAP] is False
    assert choices[Kind.INVITATION] is True
    assert EmailPreference.objects.filter(user=cast.student).count() == len(Kind)
    html = page(client.get(reverse("settings:page")))
    assert f'name="{Kind.REMINDER.value}" id="id_{Kind.REMINDER.value}"' in html
    assert f'name="{Kind.INVITATION.value}" id="id_{Kind.INVITATION.value}" checked' in html


def test_settings_need_sign_in_and_post(client: Client, cast: Cast) -> None:
    assert client.get(reverse("settings:page")).status_code == 302
    client.force_login(cast.student)
    assert client.get(reverse("settings:time_zone")).status_code == 405
    assert client.get(reverse("settings:email_preferences")).status_code == 405
