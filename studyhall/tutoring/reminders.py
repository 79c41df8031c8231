"""Reminders on a clock: 24 hours and 1 hour before a session, and "log your session" to its
tutor when it ends, when 24 hours of the grace period remain, and when 4 hours remain.

`send_due_reminders` runs every couple of minutes (see STUDYHALL_PERIODIC_TASKS). Each
reminder has a window — from its moment to the next reminder's moment — and is sent when a
run falls inside it. A run that falls later (the worker was down) sends only the reminder
that is current, never a stale "24 hours left" when 3 are left.

Idempotence: each reminder is claimed by inserting a `SentReminder` row whose unique
constraint admits one per session, person, kind and moment; the in-app notification is
written in the same transaction, and the email goes out after it commits. A second run, or a
second worker, finds the claim and sends nothing. (If the process dies between the commit and
the email, that email is lost rather than sent twice.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.notifications.models import (
    LOG_REMINDER_KINDS,
    Kind,
    ReminderKind,
    SentReminder,
)
from studyhall.notifications.services import Message, record, send_emails
from studyhall.tutoring import lifecycle, selectors
from studyhall.tutoring.models import ON_SESSION, ParticipantState, Session, Status
from studyhall.tutoring.rules import describe_span
from studyhall.tutoring.services.notify import session_link
from studyhall.tutoring.text import names, when

R = ReminderKind
BEFORE = ((R.BEFORE_24H, timedelta(hours=24)), (R.BEFORE_1H, timedelta(hours=1)))
LOG_LEFT = ((R.LOG_24H_LEFT, timedelta(hours=24)), (R.LOG_4H_LEFT, timedelta(hours=4)))
# Sessions that are still going to happen (the tutor may not have answered a request yet).
REMINDED_STATUSES = (Status.REQUESTED, Status.INVITED, Status.SCHEDULED)
# The grace period is at most 30 days (an organization constraint); a call may end a little
# after the scheduled end. Older sessions can no longer be logged.
LOG_LOOKBACK = timedelta(days=32)


@dataclass(frozen=True)
class Due:
    kind: ReminderKind
    moment: datetime  # what the reminder is about: the start, or the logging deadline


def due_before_start(session: Session, now: datetime) -> Due | None:
    """Which before-the-session reminder is current: 24 h in [start−24h, start−1h), 1 h in
    [start−1h, start). None for a session booked after its reminder's moment (the invitation
    or request email has just said it all)."""
    start = session.scheduled_start
    for index, (kind, ahead) in enumerate(BEFORE):
        opens = start - ahead
        closes = start - BEFORE[index + 1][1] if index + 1 < len(BEFORE) else start
        if opens <= now < closes:
            if session.created_at > opens:
                return None
            return Due(kind, start)
    return None


def due_for_logging(session: Session, now: datetime) -> Due | None:
    """Which "log your session" reminder is current: at the end, with 24 h left, with 4 h
    left; each until the next one's moment (the last until the deadline). A reminder whose
    moment falls before the session's end (a grace period under 24 hours) is skipped."""
    deadline = selectors.deadline_of(session)
    ended = deadline - timedelta(hours=session.organization.grace_hours)
    moments = [(R.LOG_AT_END, ended)] + [
        (kind, deadline - left) for kind, left in LOG_LEFT if deadline - left > ended
    ]
    for index, (kind, opens) in enumerate(moments):
        closes = moments[index + 1][1] if index + 1 < len(moments) else deadline
        if opens <= now < closes:
            return Due(kind, deadline)
    return None


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Send every reminder that is due and not yet sent; returns how many people were
    reminded (in the app; email follows each person's choice)."""
    now = now or timezone.now()
    reminded = 0
    upcoming = selectors.with_details(
        Session.objects.filter(
            status__in=REMINDED_STATUSES,
            scheduled_start__gt=now,
            scheduled_start__lte=now + BEFORE[0][1],
        )
    )
    for session in upcoming:
        due = due_before_start(session, now)
        if due is not None:
            for person in _people_on(session):
                reminded += _send(session, person, due, now)
    to_log = selectors.with_details(
        Session.objects.filter(
            status__in=lifecycle.COMPLETABLE,
            scheduled_start__lte=now,
            scheduled_start__gte=now - LOG_LOOKBACK,
        )
    )
    for session in to_log:
        if session.status == Status.IN_PROGRESS:
            continue  # still in the call: it has not ended yet
        due = due_for_logging(session, now)
        if due is not None and not hasattr(session, "completion"):
            reminded += _send(session, session.tutor, due, now)
    return reminded


def _people_on(session: Session) -> list[User]:
    students = [p.user for p in session.participants.all() if p.state in ON_SESSION]
    return [session.tutor, *students]


def _send(session: Session, person: User, due: Due, now: datetime) -> int:
    if not person.is_active:
        return 0
    message = _message(session, person, due, now)
    kind = Kind.LOG_REMINDER if due.kind.startswith("log_") else Kind.REMINDER
    link = session_link(session.pk)
    with transaction.atomic():
        if due.kind in LOG_REMINDER_KINDS:
            # Once each, even if a call ending later moved the deadline after it was sent.
            _, claimed = SentReminder.objects.get_or_create(
                session=session, user=person, kind=due.kind, defaults={"for_moment": due.moment}
            )
        else:
            _, claimed = SentReminder.objects.get_or_create(
                session=session, user=person, kind=due.kind, for_moment=due.moment
            )
        if not claimed:
            return 0
        record([message], kind=kind, event=due.kind, session_id=session.pk, link=link)
    send_emails([message], kind=kind, link=link)
    return 1


def _message(session: Session, person: User, due: Due, now: datetime) -> Message:
    course = session.course.code
    zone = person.zone
    is_tutor = person.pk == session.tutor_id
    students = [p.user for p in session.participants.all() if p.state in ON_SESSION]
    with_whom = f"with {names(students)}" if is_tutor else f"with {session.tutor.display_name}"
    if due.kind in (R.BEFORE_24H, R.BEFORE_1H):
        span = describe_span(session.scheduled_start - now + timedelta(seconds=59))
        title = (
            f"Reminder: your {course} session {with_whom} starts in {span}, "
            f"{when(session.scheduled_start, zone)}."
        )
        title += _still_to_answer(session, person, is_tutor)
        subject = f"Reminder: {course} session in {span}"
    else:
        left = describe_span(due.moment - now + timedelta(seconds=59))
        if due.kind == R.LOG_AT_END:
            title = (
                f"Your {course} session {with_whom} has ended. Log your time and recap; "
                f"logging closes in {left}, {when(due.moment, zone)}."
            )
            subject = f"Log your {course} session"
        else:
            title = (
                f"Log your {course} session {with_whom}: logging closes in {left}, "
                f"{when(due.moment, zone)}."
            )
            subject = f"{left} left to log your {course} session"
    return Message(
        user=person,
        title=title,
        subject=subject,
        template="tutoring/email/reminder",
        context={"session": session, "sentence": title, "is_log": due.kind.startswith("log_")},
    )


def _still_to_answer(session: Session, person: User, is_tutor: bool) -> str:
    if is_tutor and session.status == Status.REQUESTED:
        return " You have not answered the request yet."
    mine = next((p for p in session.participants.all() if p.user_id == person.pk), None)
    if mine is not None and mine.state == ParticipantState.INVITED:
        return " You have not answered the invitation yet."
    return ""
