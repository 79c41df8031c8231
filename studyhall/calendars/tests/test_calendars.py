"""The private feed and the per-session .ics, read back with the `icalendar` library."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from studyhall.calendars.models import CalendarFeed
from studyhall.calendars.services import feed_of, regenerate_feed
from studyhall.core.models import AuditEntry
from studyhall.testing import factories as f
from studyhall.tutoring.models import Mode, ParticipantState, Session, Status

if TYPE_CHECKING:
    from conftest import Cast

NOW = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
# Berlin leaves summer time on Oct 25, New York on Nov 1: three sessions at 14:00 or 15:00 UTC
# fall on either side of each change.
BEFORE_BOTH = datetime(2026, 10, 22, 14, 0, tzinfo=UTC)  # NY EDT −4, Berlin CEST +2
BETWEEN = datetime(2026, 10, 28, 14, 0, tzinfo=UTC)  # NY EDT −4, Berlin CET +1
AFTER_BOTH = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)  # NY EST −5, Berlin CET +1


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def parse(response: Any) -> icalendar.Calendar:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def events_by_uid(calendar: icalendar.Calendar) -> dict[str, Any]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def uid(session: Session) -> str:
    return f"session-{session.pk}@localhost"


def feed_url(user: Any) -> str:
    return reverse("calendars:feed", kwargs={"token": feed_of(user).token})


def test_the_feed_has_upcoming_and_recent_sessions_right_in_two_zones(
    client: Client, cast: Cast
) -> None:
    sessions = [
        f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=start)
        for start in (BEFORE_BOTH, BETWEEN, AFTER_BOTH)
    ]
    calendar = parse(client.get(feed_url(cast.student)))
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-TIMEZONE"]) == "UTC"
    events = events_by_uid(calendar)
    assert sorted(events) == sorted(uid(s) for s in sessions)

    wall_clock = {
        uid(s): (
            events[uid(s)].decoded("DTSTART").astimezone(NEW_YORK).strftime("%H:%M %Z"),
            events[uid(s)].decoded("DTSTART").astimezone(BERLIN).strftime("%H:%M %Z"),
        )
        for s in sessions
    }
    assert wall_clock == {
        uid(sessions[0]): ("10:00 EDT", "16:00 CEST"),
        uid(sessions[1]): ("10:00 EDT", "15:00 CET"),
        uid(sessions[2]): ("10:00 EST", "16:00 CET"),
    }
    for session in sessions:
        event = events[uid(session)]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        # Exact instants in UTC ("…Z"), so no VTIMEZONE is needed or trusted.
        assert start == session.scheduled_start and start.utcoffset() == timedelta(0)
        assert end - start == timedelta(minutes=60)
        assert str(event["SUMMARY"]) == "CHEM 110 tutoring with Tess Tutor"
        assert str(event["LOCATION"]) == "Library room 2"
        assert str(event["STATUS"]) == "CONFIRMED"
        assert str(event["URL"]) == f"http://testserver/sessions/{session.pk}/"
    assert b"VTIMEZONE" not in client.get(feed_url(cast.student)).content


def test_a_subscriber_in_another_zone_reads_the_same_instants(client: Client, cast: Cast) -> None:
    cast.tutor.time_zone = "Europe/Berlin"
    cast.tutor.save()
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2], start=BETWEEN,
        mode=Mode.ONLINE,
    )  # fmt: skip
    calendar = parse(client.get(feed_url(cast.tutor)))
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Berlin"
    event = events_by_uid(calendar)[uid(session)]
    assert event.decoded("DTSTART").astimezone(BERLIN) == datetime(
        2026, 10, 28, 15, 0, tzinfo=BERLIN
    )
    assert str(event["SUMMARY"]) == "CHEM 110 tutoring with Maya Chen and Sam Lee"
    assert str(event["LOCATION"]) == "Online — Studyhall classroom"


def test_the_feed_leaves_out_old_declined_and_other_peoples_sessions(
    client: Client, cast: Cast
) -> None:
    recent = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - timedelta(days=29)
    )
    f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - timedelta(days=31)
    )
    canceled = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=BETWEEN,
        status=Status.CANCELED,
    )  # fmt: skip
    f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=BETWEEN,
        status=Status.DECLINED,
    )  # fmt: skip
    f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2], start=AFTER_BOTH,
        states=[ParticipantState.DECLINED, ParticipantState.ACCEPTED],
    )  # fmt: skip
    f.make_session(org=cast.org, tutor=cast.other_tutor, students=[cast.student2], start=BETWEEN)
    events = events_by_uid(parse(client.get(feed_url(cast.student))))
    assert sorted(events) == sorted([uid(recent), uid(canceled)])
    assert str(events[uid(canceled)]["STATUS"]) == "CANCELLED"
    assert str(events[uid(canceled)]["SUMMARY"]).startswith("Canceled: ")


def test_pending_sessions_are_tentative(client: Client, cast: Cast) -> None:
    invited = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=BETWEEN,
        states=[ParticipantState.INVITED],
    )  # fmt: skip
    event = events_by_uid(parse(client.get(feed_url(cast.student))))[uid(invited)]
    assert str(event["STATUS"]) == "TENTATIVE"


def test_a_new_address_kills_the_old_one(client: Client, cast: Cast) -> None:
    old = feed_url(cast.student)
    assert client.get(old).status_code == 200
    regenerate_feed(actor=cast.student)
    assert client.get(old).status_code == 404
    assert client.get(feed_url(cast.student)).status_code == 200
    assert AuditEntry.objects.get().action == "calendar.feed_regenerated"


def test_regenerating_from_settings_needs_a_post_by_the_owner(client: Client, cast: Cast) -> None:
    old = feed_of(cast.student).token
    client.force_login(cast.student)
    response = client.post(reverse("calendars:regenerate"))
    assert response.status_code == 302
    assert response["Location"] == reverse("settings:page") + "#calendar"
    assert CalendarFeed.objects.get(user=cast.student).token != old
    assert client.get(reverse("calendars:regenerate")).status_code == 405


def test_tokens_are_long_random_and_unknown_ones_are_404(client: Client, cast: Cast) -> None:
    a, b = feed_of(cast.student).token, feed_of(cast.student2).token
    assert len(a) >= 40 and a != b
    assert client.get(reverse("calendars:feed", kwargs={"token": "nope"})).status_code == 404
    cast.student.is_active = False
    cast.student.save()
    assert client.get(reverse("calendars:feed", kwargs={"token": a})).status_code == 404


# -- Add to calendar: one session's .ics -------------------------------------------------------


def test_add_to_calendar_downloads_the_session(client: Client, cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=AFTER_BOTH
    )
    client.force_login(cast.student)
    response = client.get(reverse("calendars:session_ics", kwargs={"pk": session.pk}))
    assert response["Content-Disposition"] == (
        f'attachment; filename="studyhall-session-{session.pk}.ics"'
    )
    (event,) = parse(response).walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(NEW_YORK).strftime("%b %d %H:%M %Z") == (
        "Nov 04 10:00 EST"
    )
    assert str(event["UID"]) == uid(session)


@pytest.mark.parametrize(
    ("who", "status"),
    [("tutor", 200), ("student", 200), ("admin", 200), ("agent", 200), ("student2", 403),
     ("outsider", 404)],
)  # fmt: skip
def test_add_to_calendar_follows_the_session_pages_access(
    client: Client, cast: Cast, who: str, status: int
) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=BETWEEN)
    client.force_login(getattr(cast, who))
    response = client.get(reverse("calendars:session_ics", kwargs={"pk": session.pk}))
    assert response.status_code == status


def test_add_to_calendar_needs_sign_in(client: Client, cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=BETWEEN)
    response = client.get(reverse("calendars:session_ics", kwargs={"pk": session.pk}))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_session_page_offers_add_to_calendar(client: Client, cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=BETWEEN)
    client.force_login(cast.student)
    html = client.get(reverse("tutoring:detail", args=[session.pk])).content.decode()
    link = reverse("calendars:session_ics", kwargs={"pk": session.pk})
    assert f'href="{link}" download>Add to calendar (.ics)</a>' in html


@pytest.mark.parametrize("token", ["abc\x00def", "\x00", "a" * 65, "ab cd", "abc%2Fdef"])
def test_a_feed_address_that_cannot_be_a_token_is_404(
    client: Client, cast: Cast, token: str
) -> None:
    feed_of(cast.student)
    response = client.get(f"/calendar/feed/{token}.ics")
    assert response.status_code == 404
