"""Session wording for templates: status in the viewer's words, who is on a session, and the
logging countdown of the Sessions tab."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import template

from studyhall.accounts.models import User
from studyhall.core.money import format_cents
from studyhall.tutoring import selectors
from studyhall.tutoring.models import ON_SESSION, ParticipantState, Session, Status
from studyhall.tutoring.rules import describe_span, duration_label
from studyhall.tutoring.text import names

register = template.Library()


def shown_status(session: Session, viewer: User) -> tuple[str, str]:
    """The status as the viewer reads it, and the badge it wears.

    A pending session is named after whoever has to answer it: the tutor sees a request as
    "Requested" and its student "Awaiting tutor"; an invitation is "Invited" to a student who
    has yet to answer and "Awaiting student" to everyone else. A student who declined sees
    "Declined", whatever the others answered. A Scheduled session with a new time proposed
    stays "Scheduled" (the proposal is shown beside it; see `selectors.with_open_proposal`)."""
    status = session.status
    is_tutor = session.tutor_id == viewer.pk
    mine = next((p for p in session.participants.all() if p.user_id == viewer.pk), None)
    if mine is not None and mine.state == ParticipantState.DECLINED:
        return Status.DECLINED, Status.DECLINED.label
    pending = status in (Status.REQUESTED, Status.INVITED)
    if pending and getattr(session, "proposed_over", None) == Status.SCHEDULED:
        return Status.SCHEDULED, Status.SCHEDULED.label
    if status == Status.REQUESTED:
        return status, "Requested" if is_tutor else "Awaiting tutor"
    if status == Status.INVITED:
        answering = mine is not None and mine.state == ParticipantState.INVITED
        return status, "Invited" if answering else "Awaiting student"
    return status, Status(status).label


@register.simple_tag
def status_label(session: Session, viewer: User) -> str:
    return shown_status(session, viewer)[1]


@register.inclusion_tag("tutoring/_status_badge.html")
def status_badge(session: Session, viewer: User, extra_class: str = "") -> dict[str, object]:
    """The status badge in the viewer's words, with "New time proposed" beside it while a
    proposal is open."""
    key, label = shown_status(session, viewer)
    return {
        "key": key,
        "label": label,
        "extra_class": extra_class,
        "proposed": getattr(session, "proposed_over", None) is not None,
    }


@register.simple_tag
def people_of(session: Session, viewer: User) -> str:
    """'with <students>' for the tutor (those still on it), 'with <tutor>' for a student."""
    if session.tutor_id != viewer.pk:
        return f"with {session.tutor.display_name}"
    participants = list(session.participants.all())
    on_session = [p.user for p in participants if p.state in ON_SESSION]
    shown = names(on_session or [p.user for p in participants])
    return f"with {shown}" if shown else "no students"


@dataclass(frozen=True)
class LoggingNote:
    text: str
    closed: bool = False

    def __str__(self) -> str:
        return self.text


@register.simple_tag
def logging_note(session: Session, now: datetime) -> LoggingNote:
    """The Needs completion countdown: how long the tutor has left to log the session."""
    if session.status == Status.REQUESTED:
        return LoggingNote("Accept the request to log it")
    deadline = selectors.deadline_of(session)
    if now > deadline:
        return LoggingNote("Logging closed — ask Support", closed=True)
    return LoggingNote(f"Logging closes in {describe_span(deadline - now)}")


@register.simple_tag
def money(cents: int, currency: str) -> str:
    return format_cents(cents, currency)


@register.filter
def duration(minutes: int) -> str:
    return duration_label(minutes)
