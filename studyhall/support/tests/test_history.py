from zoneinfo import ZoneInfo

from django.utils import timezone

from studyhall.support.history import DESCRIBERS


def test_new_times_and_missed_sessions_read_plainly_in_the_viewers_zone() -> None:
    data = {"scheduled_start": "2026-11-25T20:00:00+00:00"}
    with timezone.override(ZoneInfo("America/New_York")):
        assert (
            DESCRIBERS["session.time_proposed"](data, {}, "USD")
            == "Proposed a new time: Wed, Nov 25, 3:00 PM EST"
        )
        assert (
            DESCRIBERS["session.rescheduled"](data, {}, "USD")
            == "Moved the session to Wed, Nov 25, 3:00 PM EST"
        )
    assert DESCRIBERS["session.missed"]({}, {}, "USD") == "Marked the session missed"
    assert DESCRIBERS["session.time_expired"]({}, {}, "USD") == (
        "The proposed new time lapsed unanswered"
    )
