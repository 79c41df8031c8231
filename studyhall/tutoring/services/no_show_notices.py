"""Telling people about no-shows (kind `no_show`), in the app and by email: the students of a
session whose tutor did not come (with a link to book the course again), that tutor, the
person warned or suspended after their no-shows, and the reporter of an absence an org admin
found unfounded.

As in `notify`, each notice is a task enqueued in the caller's transaction, keyed so that a
rerun tells nobody twice.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django_tasks import task

from studyhall.notifications.models import Kind
from studyhall.notifications.services import Message, deliver_once
from studyhall.tutoring.models import (
    AbsenceReportState,
    BookingSuspension,
    Mode,
    NoShowRole,
    NoShowWarning,
    ParticipantState,
    Session,
    TutorAbsenceReport,
)
from studyhall.tutoring.text import when

TEMPLATE = "tutoring/email/no_show"


def rebook_link(session: Session) -> str:
    return reverse("tutoring:book") + "?" + urlencode({"course": session.course_id})


def session_link(session_id: int) -> str:
    return reverse("tutoring:detail", kwargs={"pk": session_id})


def after_commit_tutor_no_show(*, session_id: int) -> None:
    send_tutor_no_show.enqueue(session_id=session_id)


def after_commit_standing(*, event: str, record_id: int) -> None:
    if event not in ("warned", "suspended", "lifted"):
        raise ValueError(f"unknown standing event {event!r}")
    send_standing.enqueue(event=event, record_id=record_id)


def after_commit_absence(*, event: str, session_id: int) -> None:
    if event not in ("reported", "tutor_came"):
        raise ValueError(f"unknown absence event {event!r}")
    send_absence.enqueue(event=event, session_id=session_id)


def _session(session_id: int) -> Session | None:
    return (
        Session.objects.select_related("course", "tutor", "organization")
        .filter(pk=session_id)
        .first()
    )


def _message(user: object, *, title: str, subject: str, action: str, **context: object) -> Message:
    return Message(
        user=user,  # type: ignore[arg-type]
        title=title,
        subject=subject,
        template=TEMPLATE,
        context={"sentence": title, "action_label": action, **context},
    )


@task()
def send_tutor_no_show(session_id: int) -> int:
    """The students hear their tutor did not come and are offered to book again; the tutor
    hears it was counted. Once each."""
    session = _session(session_id)
    if session is None:
        return 0
    course = session.course.code
    students = [
        p.user
        for p in session.participants.select_related("user").filter(state=ParticipantState.ACCEPTED)
    ]
    sent = deliver_once(
        [
            _message(
                student,
                title=(
                    f"{session.tutor.display_name} did not come to your {course} session "
                    f"{when(session.scheduled_start, student.zone)}, so it was marked missed. "
                    f"Book {course} again when it suits you."
                ),
                subject=f"Your tutor did not come: book {course} again",
                action=f"Book {course} again",
                session=session,
            )
            for student in students
        ],
        key=f"tutor_no_show:session:{session.pk}:students",
        kind=Kind.NO_SHOW,
        event="tutor_no_show",
        session_id=session.pk,
        link=rebook_link(session),
    )
    why = (
        f"a student waited {session.organization.tutor_no_show_minutes} minutes in the "
        "classroom without you"
        if session.mode == Mode.ONLINE
        else "an org admin found you did not come"
    )
    tutor = session.tutor
    sent += deliver_once(
        [
            _message(
                tutor,
                title=(
                    f"The {course} session {when(session.scheduled_start, tutor.zone)} was "
                    f"marked missed as a tutor no-show: {why}."
                ),
                subject="A session was missed as a tutor no-show",
                action="Open the session",
                session=session,
            )
        ],
        key=f"tutor_no_show:session:{session.pk}:tutor",
        kind=Kind.NO_SHOW,
        event="tutor_no_show",
        session_id=session.pk,
        link=session_link(session.pk),
    )
    return sent


@task()
def send_standing(event: str, record_id: int) -> int:
    """A warning, a suspension or its lifting, to the person it is about. Once."""
    record: NoShowWarning | BookingSuspension | None
    if event == "warned":
        record = (
            NoShowWarning.objects.select_related("user", "organization")
            .filter(pk=record_id)
            .first()
        )
    else:
        record = (
            BookingSuspension.objects.select_related("user", "organization")
            .filter(pk=record_id)
            .first()
        )
    if record is None:
        return 0
    org = record.organization
    as_what = "tutor" if record.role == NoShowRole.TUTOR else "student"
    counted = f"{record.no_shows} no-show{'s' if record.no_shows != 1 else ''}"
    if event == "warned":
        suspend_at = org.no_show_suspension_threshold
        then = (
            f" At {suspend_at}, booking is suspended until an org admin lifts it."
            if suspend_at
            else ""
        )
        title = (
            f"You have {counted} as a {as_what} at {org.name} this term. Please cancel ahead "
            f"when you cannot come.{then}"
        )
        subject, action, link = "A warning about missed sessions", "Open your sessions", ""
    elif event == "suspended":
        assert isinstance(record, BookingSuspension)
        title = (
            f"Your booking as a {as_what} at {org.name} is suspended after {counted} in "
            f"{record.period_name}. An org admin can lift it."
        )
        subject, action, link = "Your booking is suspended", "Open your sessions", ""
    else:
        assert isinstance(record, BookingSuspension)
        title = f"An org admin of {org.name} lifted the suspension of your booking as a {as_what}."
        subject, action, link = "You can book again", "Book a session", reverse("tutoring:book")
    return deliver_once(
        [_message(record.user, title=title, subject=subject, action=action)],
        key=f"no_show:{event}:{record_id}",
        kind=Kind.NO_SHOW,
        event=f"no_show_{event}",
        link=link or reverse("tutoring:sessions"),
    )


@task()
def send_absence(event: str, session_id: int) -> int:
    """A report that the tutor did not come: the tutor hears of it; once decided that the
    tutor came, the reporters hear it. Once each."""
    session = _session(session_id)
    if session is None:
        return 0
    course = session.course.code
    if event == "reported":
        tutor = session.tutor
        return deliver_once(
            [
                _message(
                    tutor,
                    title=(
                        f"A student reported that you did not come to the {course} session "
                        f"{when(session.scheduled_start, tutor.zone)}. An org admin will decide; "
                        "until then the session cannot be logged."
                    ),
                    subject="A student reported you did not come",
                    action="Open the session",
                    session=session,
                )
            ],
            # One notice however many students report it, until it is decided.
            key=f"absence:reported:session:{session.pk}:{_open_round(session)}",
            kind=Kind.NO_SHOW,
            event="absence_reported",
            session_id=session.pk,
            link=session_link(session.pk),
        )
    reporters = [
        r.reporter
        for r in TutorAbsenceReport.objects.select_related("reporter").filter(
            session=session, state=AbsenceReportState.TUTOR_CAME
        )
    ]
    return deliver_once(
        [
            _message(
                reporter,
                title=(
                    f"An org admin found that {session.tutor.display_name} came to the {course} "
                    f"session {when(session.scheduled_start, reporter.zone)}; the tutor can "
                    "log it now."
                ),
                subject="Your report about a tutor was decided",
                action="Open the session",
                session=session,
            )
            for reporter in reporters
        ],
        key=f"absence:tutor_came:session:{session.pk}",
        kind=Kind.NO_SHOW,
        event="absence_resolved",
        session_id=session.pk,
        link=session_link(session.pk),
    )


def _open_round(session: Session) -> str:
    reported = session.tutor_absence_reported_at
    return reported.isoformat() if reported is not None else "decided"
