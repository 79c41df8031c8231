"""Sessions as iCalendar (RFC 5545).

Times are written in UTC (`DTSTART:20261120T140000Z`), the form RFC 5545 calls "date with UTC
time": an exact instant that every calendar app shows in its own zone, so nothing depends on
time-zone definitions or daylight-saving rules being shipped or interpreted alike. The
subscriber's zone is named in X-WR-TIMEZONE only as a hint for the calendar's display.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from django.conf import settings

from studyhall.accounts.models import User
from studyhall.tutoring.models import ON_SESSION, Session, Status
from studyhall.tutoring.rules import duration_label
from studyhall.tutoring.text import names

if TYPE_CHECKING:
    from icalendar import Event

PRODID = "-//Studyhall//Tutoring sessions//EN"
REFRESH = timedelta(hours=1)
ICAL_STATUS = {
    Status.REQUESTED: "TENTATIVE",
    Status.INVITED: "TENTATIVE",
    Status.CANCELED: "CANCELLED",
    Status.DECLINED: "CANCELLED",
}


def calendar_bytes(
    sessions: Iterable[Session],
    viewer: User,
    *,
    session_url: Callable[[Session], str],
    name: str,
    now: datetime,
) -> bytes:
    # Imported when a feed is asked for, so that the web workers that never serve one do not
    # hold the library.
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("name", name)
    calendar.add("x-wr-timezone", viewer.time_zone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for session in sessions:
        calendar.add_component(session_event(session, viewer, url=session_url(session), now=now))
    ical: bytes = calendar.to_ical()
    return ical


def session_event(session: Session, viewer: User, *, url: str, now: datetime) -> Event:
    from icalendar import Event

    event = Event()
    event.add("uid", f"session-{session.pk}@{_domain()}")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", session.scheduled_start.astimezone(UTC))
    event.add("dtend", session.scheduled_end.astimezone(UTC))
    event.add("last-modified", session.updated_at.astimezone(UTC))
    event.add("summary", _summary(session, viewer))
    event.add("location", session.location or "Online — Studyhall classroom")
    event.add("description", _description(session, url))
    event.add("url", url)
    event.add("status", ICAL_STATUS.get(Status(session.status), "CONFIRMED"))
    event.add("transp", "TRANSPARENT" if session.status == Status.CANCELED else "OPAQUE")
    return event


def _summary(session: Session, viewer: User) -> str:
    course = session.course.code
    if session.tutor_id == viewer.pk:
        students = [p.user for p in session.participants.all() if p.state in ON_SESSION]
        who = f" with {names(students)}" if students else ""
    else:
        who = f" with {session.tutor.display_name}"
    prefix = "Canceled: " if session.status == Status.CANCELED else ""
    return f"{prefix}{course} tutoring{who}"


def _description(session: Session, url: str) -> str:
    students = [p.user for p in session.participants.all() if p.state in ON_SESSION]
    lines = [
        f"{session.course.code} — {session.course.title}",
        f"Status: {Status(session.status).label}",
        f"Length: {duration_label(session.planned_minutes)} ({session.get_mode_display()})",
        f"Tutor: {session.tutor.display_name}",
    ]
    if students:
        lines.append(f"Students: {names(students)}")
    if session.status == Status.CANCELED and session.cancel_reason:
        lines.append(f"Canceled: {session.cancel_reason}")
    if session.notes:
        lines.append(f"Notes: {session.notes}")
    lines.append(f"Open in Studyhall: {url}")
    return "\n".join(lines)


def _domain() -> str:
    return urlparse(settings.STUDYHALL_BASE_URL).hostname or "studyhall"
