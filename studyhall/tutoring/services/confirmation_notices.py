"""Notices about confirmations: each student who came is asked "Did this session happen as
logged?", and the tutor hears of a dispute and of Support's decision. Enqueued inside the
caller's transaction; each task tells each person once."""

from __future__ import annotations

from django_tasks import task

from studyhall.accounts.models import User
from studyhall.notifications.models import Kind
from studyhall.notifications.services import Message, deliver_once
from studyhall.tutoring.models import Confirmation, Session
from studyhall.tutoring.services.notify import session_link
from studyhall.tutoring.text import when

TUTOR_EVENTS = {
    "disputed": "A student disputed your session",
    "dispute_upheld": "Support upheld your session's log",
    "dispute_adjusted": "Support corrected your session's pay",
}


def after_commit_ask_students(*, session_id: int) -> None:
    ask_students.enqueue(session_id=session_id)


def after_commit_tell_tutor(*, session_id: int, event: str) -> None:
    if event not in TUTOR_EVENTS:
        raise ValueError(f"unknown confirmation event {event!r}")
    count = Confirmation.objects.filter(session_id=session_id, answer="disputed").count()
    tell_tutor.enqueue(session_id=session_id, event=event, key=f"{event}:{count}")


def _session(session_id: int) -> Session | None:
    return (
        Session.objects.select_related("course", "tutor", "organization")
        .filter(pk=session_id)
        .first()
    )


@task()
def ask_students(session_id: int) -> int:
    session = _session(session_id)
    if session is None:
        return 0
    students = User.objects.filter(session_confirmations__session=session).order_by("pk")
    messages = []
    for student in students:
        sentence = (
            f"Did your {session.course.code} session with {session.tutor.display_name} "
            f"{when(session.scheduled_start, student.zone)} happen as logged? Confirm it, or "
            "tell us what was different."
        )
        messages.append(
            Message(
                user=student,
                title=sentence,
                subject=f"Did your {session.course.code} session happen as logged?",
                template="tutoring/email/session_event",
                context={"session": session, "sentence": sentence, "answer_expected": True},
            )
        )
    return deliver_once(
        messages,
        key=f"confirm:session:{session.pk}",
        kind=Kind.CONFIRMATION,
        event="confirm_asked",
        session_id=session.pk,
        link=session_link(session.pk),
    )


@task()
def tell_tutor(session_id: int, event: str, key: str) -> int:
    session = _session(session_id)
    if session is None or event not in TUTOR_EVENTS:
        return 0
    course = session.course.code
    sentence = {
        "disputed": (
            f"A student disputed your {course} session "
            f"{when(session.scheduled_start, session.tutor.zone)}; the pay it is about is held "
            "until Support resolves it."
        ),
        "dispute_upheld": (
            f"Support upheld your log of the {course} session; the held pay is released."
        ),
        "dispute_adjusted": (
            f"Support corrected the pay of your {course} session after a student's dispute."
        ),
    }[event]
    message = Message(
        user=session.tutor,
        title=sentence,
        subject=TUTOR_EVENTS[event],
        template="tutoring/email/session_event",
        context={"session": session, "sentence": sentence, "answer_expected": False},
    )
    return deliver_once(
        [message],
        key=f"confirmation:{key}:session:{session.pk}",
        kind=Kind.CONFIRMATION,
        event=event,
        session_id=session.pk,
        link=session_link(session.pk),
    )
