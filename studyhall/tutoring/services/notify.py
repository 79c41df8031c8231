"""Telling people about their sessions, in the app and by email, once the change commits.

Each message is a background task enqueued in the same transaction as the change (the task
queue's table is in the same database): a rolled-back change enqueues nothing, and a committed
one is told even if the process dies right after the commit. The worker (`manage.py
db_worker`) runs each task at least once; `deliver_once` keys every notification, so a rerun
tells nobody twice. Tasks take ids and read what was committed. Each person gets one in-app
notification and, unless they turned that kind off, one email (see `studyhall.notifications`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.urls import reverse
from django_tasks import task

from studyhall.accounts.models import User
from studyhall.notifications.models import Kind
from studyhall.notifications.services import Message, deliver_once
from studyhall.tutoring.models import ON_SESSION, ParticipantState, Session
from studyhall.tutoring.text import when

EVENT_SUBJECTS = {
    "invited": "You're invited to a tutoring session",
    "booked": "A tutoring session was booked for you",
    "requested": "A student requested a tutoring session",
    "accepted": "A tutoring session was accepted",
    "declined": "A tutoring session was declined",
    "canceled": "A tutoring session was canceled",
    "removed": "You were removed from a tutoring session",
    "rescheduled": "A new time was proposed for a tutoring session",
    "reschedule_accepted": "A tutoring session moved to a new time",
    "reschedule_declined": "A proposed new session time was declined",
    "missed": "A tutoring session was missed",
}
EVENT_KINDS = {
    "invited": Kind.INVITATION,
    "booked": Kind.INVITATION,
    "requested": Kind.REQUEST,
    "accepted": Kind.ANSWER,
    "declined": Kind.ANSWER,
    "canceled": Kind.CANCELLATION,
    "removed": Kind.CANCELLATION,
    "missed": Kind.CANCELLATION,
    "rescheduled": Kind.RESCHEDULE,
    "reschedule_accepted": Kind.RESCHEDULE,
    "reschedule_declined": Kind.RESCHEDULE,
}
# Events after which the recipient is expected to answer on the session page.
ANSWER_EXPECTED = frozenset({"invited", "booked", "requested", "rescheduled"})


def after_commit_send_recap(*, session_id: int) -> None:
    """Enqueue the recap to the students, in the caller's transaction."""
    send_recap.enqueue(session_id=session_id)


@task()
def send_recap(session_id: int) -> int:
    """Background task: the recap of a completed session to its students, once."""
    return send_recap_to_students(session_id)


def after_commit_session_event(
    *,
    session_id: int,
    event: str,
    actor_id: int | None,
    only_user_id: int | None = None,
    proposed_start: datetime | None = None,
    reason: str | None = None,
) -> None:
    """Once committed, tell the people on the session what happened. `proposed_start` is the
    new time of a "rescheduled" proposal, shown to each person in their own time zone;
    `reason` says why a session was "missed" (`services.missed`)."""
    if event not in EVENT_SUBJECTS:
        raise ValueError(f"unknown session event {event!r}")
    send_event.enqueue(
        session_id=session_id,
        event=event,
        actor_id=actor_id,
        only_user_id=only_user_id,
        proposed_start=proposed_start.isoformat() if proposed_start is not None else None,
        reason=reason,
        # One key per happening: a rerun of this task is recognised, a later event is not.
        key=f"event:{event}:session:{session_id}:{uuid.uuid4().hex}",
    )


@task()
def send_event(
    *,
    session_id: int,
    event: str,
    actor_id: int | None,
    only_user_id: int | None,
    proposed_start: str | None,
    key: str,
    reason: str | None = None,
) -> int:
    """Background task: one session event to the people on the session, once."""
    return send_session_event(
        session_id,
        event,
        actor_id,
        only_user_id=only_user_id,
        proposed_start=datetime.fromisoformat(proposed_start) if proposed_start else None,
        key=key,
        reason=reason,
    )


def session_link(session_id: int) -> str:
    return reverse("tutoring:detail", kwargs={"pk": session_id})


def send_recap_to_students(session_id: int) -> int:
    """The recap goes to each student who took part (everyone still accepted)."""
    session = (
        Session.objects.select_related("course", "tutor", "organization", "completion")
        .filter(pk=session_id)
        .first()
    )
    if session is None or not hasattr(session, "completion"):
        return 0
    students = [
        p.user
        for p in session.participants.select_related("user").filter(state=ParticipantState.ACCEPTED)
    ]
    subject = f"Recap of your {session.course.code} session with {session.tutor}"
    context = {"session": session, "completion": session.completion}
    messages = [
        Message(
            user=student,
            title=(
                f"{session.tutor.display_name} logged your {session.course.code} session "
                "and sent you the recap."
            ),
            subject=subject,
            template="tutoring/email/recap",
            context=context,
        )
        for student in students
    ]
    return deliver_once(
        messages,
        key=f"recap:session:{session.pk}",
        kind=Kind.RECAP,
        event="recap",
        session_id=session.pk,
        link=session_link(session.pk),
    )


def send_session_event(
    session_id: int,
    event: str,
    actor_id: int | None,
    *,
    only_user_id: int | None = None,
    proposed_start: datetime | None = None,
    key: str | None = None,
    reason: str | None = None,
) -> int:
    """Tell the people on the session, but not the one who acted, what happened (once per
    `key`; a fresh key when none is given).

    Students who declined or were removed hear no more about it; `only_user_id` narrows the
    message to one person (the student who was removed). Returns how many emails went out.
    """
    session = (
        Session.objects.select_related("course", "tutor", "organization")
        .filter(pk=session_id)
        .first()
    )
    if session is None or event not in EVENT_SUBJECTS:
        return 0
    participants = session.participants.select_related("user")
    if only_user_id is not None:
        people = [p.user for p in participants.filter(user_id=only_user_id)]
    else:
        people = [session.tutor] + [p.user for p in participants.filter(state__in=ON_SESSION)]
    actor = User.objects.filter(pk=actor_id).first() if actor_id is not None else None
    removed_ids = set(
        participants.filter(state=ParticipantState.REMOVED).values_list("user_id", flat=True)
    )
    messages = []
    for person in people:
        if person.pk == actor_id:
            continue
        sentence = event_sentence(
            session,
            event,
            actor,
            person,
            was_removed=person.pk in removed_ids,
            proposed_start=proposed_start,
            reason=reason,
        )
        messages.append(
            Message(
                user=person,
                title=sentence,
                subject=EVENT_SUBJECTS[event],
                template="tutoring/email/session_event",
                context={
                    "session": session,
                    "event": event,
                    "actor": actor,
                    "sentence": sentence,
                    "answer_expected": event in ANSWER_EXPECTED,
                },
            )
        )
    return deliver_once(
        messages,
        key=key or f"event:{event}:session:{session.pk}:{uuid.uuid4().hex}",
        kind=EVENT_KINDS[event],
        event=event,
        session_id=session.pk,
        link=session_link(session.pk),
    )


def event_sentence(
    session: Session,
    event: str,
    actor: User | None,
    recipient: User,
    *,
    was_removed: bool = False,
    proposed_start: datetime | None = None,
    reason: str | None = None,
) -> str:
    """Who did what, from the recipient's side: the email's first line and the in-app title."""
    who = actor.display_name if actor else "Someone"
    course = session.course.code
    by_tutor = actor is not None and actor.pk == session.tutor_id
    if event == "invited":
        return f"{who} invited you to a {course} tutoring session."
    if event == "booked":
        if recipient.pk == session.tutor_id:
            return f"{who} booked a {course} session for you to tutor; your students accept it."
        return (
            f"{who} booked you a {course} tutoring session with "
            f"{session.tutor.display_name}. Accept or decline it on the session page."
        )
    if event == "requested":
        return f"{who} asked you to tutor a {course} session."
    if event == "accepted":
        if by_tutor:
            return f"{who} accepted the request; the {course} session is scheduled."
        return f"{who} accepted the {course} session."
    if event == "declined":
        if by_tutor:
            return f"{who} declined the request for a {course} session."
        return f"{who} will not take part in the {course} session."
    if event == "canceled":
        reason = f" Reason: {session.cancel_reason}" if session.cancel_reason else ""
        return f"{who} canceled the {course} session.{reason}"
    if event == "removed":
        if was_removed:
            return f"{who} removed you from the {course} session."
        return f"{who} removed a student from the {course} session."
    if event == "rescheduled":
        new_time = f" {when(proposed_start, recipient.zone)}" if proposed_start else ""
        return (
            f"{who} proposed a new time for the {course} session{new_time}. "
            "Accept or decline it on the session page."
        )
    if event == "reschedule_accepted":
        return (
            f"{who} accepted the new time; the {course} session is now "
            f"{when(session.scheduled_start, recipient.zone)}."
        )
    if event == "reschedule_declined":
        return f"{who} declined the proposed new time for the {course} session."
    if event == "missed":
        return _missed_sentence(session, actor, recipient, reason)
    return f"The {course} session changed."


def _missed_sentence(
    session: Session, actor: User | None, recipient: User, reason: str | None
) -> str:
    """Why the session was marked missed, from the recipient's side (the reasons are
    `services.missed`'s)."""
    course = session.course.code
    at = when(session.scheduled_start, recipient.zone)
    if reason == "nobody_came":
        who = actor.display_name if actor else "The tutor"
        return f"{who} reported that nobody came to the {course} session {at}, so it was missed."
    if reason == "no_student_accepted":
        by = "logging closed" if session.recorded_after_the_fact else "it started"
        return (
            f"The {course} session {at} was marked missed: no student accepted the invitation "
            f"before {by}."
        )
    if reason == "request_unanswered":
        tutor = "you" if recipient.pk == session.tutor_id else session.tutor.display_name
        return (
            f"The {course} session {at} was marked missed: {tutor} did not answer the request "
            "before logging closed."
        )
    return f"The {course} session {at} was marked missed."
