"""Reminders on a clock: 24 hours and 1 hour before a session, and "log your session" to its
tutor when it ends, when 24 hours of the grace period remain, and when 4 hours remain.

`send_due_reminders` runs every couple of minutes (see STUDYHALL_PERIODIC_TASKS). Each
reminder has a window — from its moment to the next reminder's moment — and is sent when a
run falls inside it. A run that falls later (the worker was down) sends only the reminder
that is current, never a stale "24 hours left" when 3 are left.

Cost: each run reads only what is due and not yet claimed — the before-the-session reminders
and the "log your session" ones are both picked out in the query (the current window, no
claim yet; for logging, the deadline worked out in SQL as `completion_deadline` does) — so a
run with nothing due costs a handful of statements and reads no session, however many there
are.

Idempotence and durability: the due reminders are claimed in bulk (`SentReminder` rows, one
per session, person, kind and moment, unique) and, in the same transaction, one task is
enqueued to tell the people claimed (`send_reminders`). The task runs at least once and
delivers each reminder under its own key, so a rerun, or two runs that raced to the same
claim, tells nobody twice; a crash after the claim loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, CharField, Exists, F, OuterRef, Prefetch, QuerySet, Value, When
from django.utils import timezone
from django_tasks import task

from studyhall.accounts.models import User
from studyhall.notifications.models import LOG_REMINDER_KINDS, Kind, ReminderKind, SentReminder
from studyhall.notifications.services import Message, deliver_once
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
    """Claim every reminder that is due and not yet claimed, and enqueue the task that sends
    them; returns how many people are to be reminded (in the app; email follows each
    person's choice)."""
    now = now or timezone.now()
    due: list[tuple[Session, User, Due]] = []
    for session, kind in _unclaimed_before_start(now):
        people = _people_on(session)
        due.extend((session, person, Due(kind, session.scheduled_start)) for person in people)
    for session in _open_for_logging(now):
        if session.status == Status.IN_PROGRESS:
            continue  # still in the call: it has not ended yet
        log_due = due_for_logging(session, now)
        if log_due is None or hasattr(session, "completion"):
            continue
        # Once each, even if a call ending later moved the deadline after it was sent.
        if log_due.kind not in {r.kind for r in session.sent_reminders.all()}:
            due.append((session, session.tutor, log_due))
    due = [(session, person, d) for session, person, d in due if person.is_active]
    if not due:
        return 0
    with transaction.atomic():
        SentReminder.objects.bulk_create(
            [
                SentReminder(session=session, user=person, kind=d.kind, for_moment=d.moment)
                for session, person, d in due
            ],
            ignore_conflicts=True,
        )
        send_reminders.enqueue(
            items=[[s.pk, p.pk, d.kind, d.moment.isoformat()] for s, p, d in due],
            now=now.isoformat(),
        )
    return len(due)


def _unclaimed_before_start(now: datetime) -> list[tuple[Session, ReminderKind]]:
    """Sessions whose current before-the-session reminder is due and unclaimed: 24 h in
    [start−24h, start−1h), 1 h in [start−1h, start), for sessions booked before that moment
    (a later booking's invitation or request email has just said it all)."""
    found: list[tuple[Session, ReminderKind]] = []
    for index, (kind, ahead) in enumerate(BEFORE):
        until = BEFORE[index + 1][1] if index + 1 < len(BEFORE) else timedelta(0)
        claim = SentReminder.objects.filter(
            session=OuterRef("pk"), kind=kind, for_moment=OuterRef("scheduled_start")
        )
        sessions = selectors.with_details(
            Session.objects.filter(
                status__in=REMINDED_STATUSES,
                scheduled_start__gt=now + until,
                scheduled_start__lte=now + ahead,
                created_at__lte=F("scheduled_start") - ahead,
            ).exclude(Exists(claim))
        )
        found.extend((session, kind) for session in sessions)
    return found


def _open_for_logging(now: datetime) -> QuerySet[Session]:
    """The sessions whose current "log your session" reminder is due and not yet claimed,
    with the log reminders already claimed: `due_for_logging`'s windows worked out in the
    query (between the end and the deadline; the last reminder whose moment has passed,
    counting only those after the end), so a run with none due reads none. The caller checks
    each one found again in Python, with the same rules."""
    current = Case(
        *(
            When(
                organization__grace_hours__gt=left / timedelta(hours=1),
                log_deadline__lte=now + left,
                then=Value(kind.value),
            )
            # The nearest the deadline first: 4 hours left, then 24.
            for kind, left in sorted(LOG_LEFT, key=lambda pair: pair[1])
        ),
        default=Value(R.LOG_AT_END.value),
        output_field=CharField(),
    )
    claimed = SentReminder.objects.filter(session=OuterRef("pk"), kind=OuterRef("log_kind"))
    due = (
        Session.objects.filter(
            status__in=sorted(lifecycle.COMPLETABLE - {Status.IN_PROGRESS}),
            scheduled_start__lte=now,
            scheduled_start__gte=now - LOG_LOOKBACK,
            completion__isnull=True,
        )
        .annotate(
            log_ended=selectors.ended_expression(), log_deadline=selectors.deadline_expression()
        )
        .filter(log_ended__lte=now, log_deadline__gt=now)
        .annotate(log_kind=current)
        .exclude(Exists(claimed))
    )
    return selectors.with_details(due).prefetch_related(
        Prefetch(
            "sent_reminders",
            queryset=SentReminder.objects.filter(kind__in=LOG_REMINDER_KINDS),
        )
    )


@task()
def send_reminders(*, items: list[list[Any]], now: str) -> int:
    """Background task: tell each claimed person their reminder, once per reminder however
    often this runs. `items` are [session id, user id, kind, moment]; `now` is when the
    reminders fell due (their wording counts down from it)."""
    at = datetime.fromisoformat(now)
    sessions = {
        s.pk: s
        for s in selectors.with_details(Session.objects.filter(pk__in={i[0] for i in items}))
    }
    people = {u.pk: u for u in User.objects.filter(pk__in={i[1] for i in items})}
    sent = 0
    for session_id, user_id, kind, moment in items:
        session, person = sessions.get(session_id), people.get(user_id)
        if session is None or person is None:
            continue
        due = Due(ReminderKind(kind), datetime.fromisoformat(moment))
        # A log reminder is sent once each; one before the session once per start time.
        once = kind if kind in LOG_REMINDER_KINDS else f"{kind}:{due.moment.isoformat()}"
        sent += deliver_once(
            [_message(session, person, due, at)],
            key=f"reminder:{session_id}:{once}",
            kind=Kind.LOG_REMINDER if due.kind.startswith("log_") else Kind.REMINDER,
            event=due.kind,
            session_id=session_id,
            link=session_link(session_id),
        )
    return sent


def _people_on(session: Session) -> list[User]:
    students = [p.user for p in session.participants.all() if p.state in ON_SESSION]
    return [session.tutor, *students]


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
