"""Every session event reaches the people on the session in the app, and by email unless
they turned that kind off; the one who acted hears nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from studyhall.notifications import services
from studyhall.notifications.models import EmailPreference, Kind, Notification
from studyhall.testing import factories as f
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.models import ParticipantState, Session, Status
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.notify import (
    EVENT_KINDS,
    EVENT_SUBJECTS,
    after_commit_session_event,
    send_session_event,
)
from studyhall.tutoring.services.scheduling import (
    accept_session,
    cancel_session,
    decline_session,
)

if TYPE_CHECKING:
    from conftest import Cast

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
START = NOW + timedelta(days=2)
ACC, INV = ParticipantState.ACCEPTED, ParticipantState.INVITED


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        mail.outbox.clear()
        yield


def titles(user: Any) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("title", flat=True))


def test_an_invitation_tells_each_student_in_the_app_and_by_email(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2], start=START,
        states=[INV, INV],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        after_commit_session_event(session_id=session.pk, event="invited", actor_id=cast.tutor.pk)
    run_queued_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == ["maya@example.test", "sam@example.test"]
    message = mail.outbox[0]
    assert isinstance(message, EmailMultiAlternatives)
    assert message.subject == "You're invited to a tutoring session"
    assert "Tess Tutor invited you to a CHEM 110 tutoring session." in message.body
    assert f"Open the session to answer: http://localhost:8000/sessions/{session.pk}/" in (
        message.body
    )
    assert (
        "Choose which notifications also come by email: http://localhost:8000/settings/#email"
        in (message.body)
    )
    html = str(message.alternatives[0][0])
    assert "Open the session to answer" in html and 'name="viewport"' in html
    for student in (cast.student, cast.student2):
        notice = Notification.objects.get(user=student)
        assert (notice.kind, notice.event, notice.session_id) == (
            Kind.INVITATION,
            "invited",
            session.pk,
        )
        assert notice.title == "Tess Tutor invited you to a CHEM 110 tutoring session."
        assert notice.read_at is None
        student.refresh_from_db()
        assert student.unread_notifications == 1
    assert titles(cast.tutor) == []  # the one who acted


def test_a_request_and_its_answer_go_both_ways(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=START,
        status=Status.REQUESTED, origin="request",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        after_commit_session_event(
            session_id=session.pk, event="requested", actor_id=cast.student.pk
        )
    run_queued_tasks()
    assert titles(cast.tutor) == ["Maya Chen asked you to tutor a CHEM 110 session."]
    assert Notification.objects.get(user=cast.tutor).kind == Kind.REQUEST
    with django_capture_on_commit_callbacks(execute=True):
        accept_session(session_id=session.pk, actor=cast.tutor)
    run_queued_tasks()
    assert titles(cast.student) == [
        "Tess Tutor accepted the request; the CHEM 110 session is scheduled."
    ]
    assert [m.subject for m in mail.outbox] == [
        "A student requested a tutoring session",
        "A tutoring session was accepted",
    ]


def test_decline_and_cancel_are_told_with_the_reason(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2], start=START,
        states=[INV, ACC],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        decline_session(session_id=s.pk, actor=cast.student)
    run_queued_tasks()
    assert titles(cast.tutor) == ["Maya Chen will not take part in the CHEM 110 session."]
    assert titles(cast.student2) == ["Maya Chen will not take part in the CHEM 110 session."]
    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session_id=s.pk, actor=cast.tutor, reason="I am ill.")
    run_queued_tasks()
    assert titles(cast.student2)[0] == "Tess Tutor canceled the CHEM 110 session. Reason: I am ill."
    # Maya declined earlier: she hears no more about it.
    assert titles(cast.student) == []
    assert Notification.objects.get(user=cast.student2, event="canceled").kind == Kind.CANCELLATION


def test_the_recap_reaches_each_student_in_the_app_too(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - timedelta(hours=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        complete_session(session_id=s.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    run_queued_tasks()
    notice = Notification.objects.get(user=cast.student)
    assert (notice.kind, notice.event) == (Kind.RECAP, "recap")
    assert notice.title == "Tess Tutor logged your CHEM 110 session and sent you the recap."
    assert f"See the session: http://localhost:8000/sessions/{s.pk}/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("event", "to_maya"),
    [
        (
            "rescheduled",
            "Tess Tutor proposed a new time for the CHEM 110 session on Thu, Nov 19 at 10:00 AM "
            "EST. Accept or decline it on the session page.",
        ),
        (
            "reschedule_accepted",
            "Tess Tutor accepted the new time; the CHEM 110 session is now on Wed, Nov 18 at "
            "10:00 AM EST.",
        ),
        (
            "reschedule_declined",
            "Tess Tutor declined the proposed new time for the CHEM 110 session.",
        ),
        ("missed", "The CHEM 110 session on Wed, Nov 18 at 10:00 AM EST was marked missed."),
    ],
)
def test_the_rescheduling_and_missed_events_are_worded_for_each_person(
    cast: Cast, event: str, to_maya: str
) -> None:
    cast.student.time_zone = "America/New_York"
    cast.student.save()
    s = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)
    proposed = START + timedelta(days=1)
    sent = send_session_event(s.pk, event, cast.tutor.pk, proposed_start=proposed)
    assert sent == 1
    assert titles(cast.student) == [to_maya]
    assert mail.outbox[0].subject == EVENT_SUBJECTS[event]
    assert to_maya in mail.outbox[0].body
    assert Notification.objects.get(user=cast.student).kind == EVENT_KINDS[event]


def test_a_system_event_without_an_actor_tells_everyone(cast: Cast) -> None:
    s = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)
    assert send_session_event(s.pk, "missed", None) == 2
    assert titles(cast.tutor) == [
        "The CHEM 110 session on Wed, Nov 18 at 3:00 PM UTC was marked missed."
    ]


def test_unknown_events_are_refused_before_anything_commits(cast: Cast) -> None:
    with pytest.raises(ValueError, match="unknown session event 'moved'"):
        after_commit_session_event(session_id=1, event="moved", actor_id=cast.tutor.pk)


def test_a_kind_turned_off_still_arrives_in_the_app(cast: Cast) -> None:
    EmailPreference.objects.create(user=cast.student, kind=Kind.CANCELLATION, by_email=False)
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2], start=START
    )
    Session.objects.filter(pk=s.pk).update(status=Status.CANCELED, cancel_reason="Snow day.")
    assert send_session_event(s.pk, "canceled", cast.tutor.pk) == 1
    assert [m.to for m in mail.outbox] == [["sam@example.test"]]
    assert len(titles(cast.student)) == 1


def test_inactive_people_are_not_told(cast: Cast) -> None:
    cast.student.is_active = False
    cast.student.save()
    s = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=START)
    assert send_session_event(s.pk, "canceled", cast.tutor.pk) == 0
    assert Notification.objects.count() == 0


# -- reading them: the unread counter ---------------------------------------------------------


def notify(user: Any, n: int = 1) -> list[Notification]:
    msgs = [
        services.Message(user=user, title=f"Note {i}", subject="s", template="t") for i in range(n)
    ]
    return services.record(msgs, kind=Kind.INVITATION, event="invited")


def test_mark_read_counts_down_once(cast: Cast) -> None:
    first, _second = notify(cast.student, 2)
    cast.student.refresh_from_db()
    assert cast.student.unread_notifications == 2
    services.mark_read(actor=cast.student, notification_id=first.pk)
    services.mark_read(actor=cast.student, notification_id=first.pk)
    assert cast.student.unread_notifications == 1
    first.refresh_from_db()
    assert first.read_at == NOW


def test_someone_elses_notification_is_not_found(cast: Cast) -> None:
    (theirs,) = notify(cast.student)
    from studyhall.core.errors import NotFound

    with pytest.raises(NotFound):
        services.mark_read(actor=cast.student2, notification_id=theirs.pk)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_and_the_counter_matches_the_rows(cast: Cast) -> None:
    notify(cast.student, 3)
    notify(cast.student2, 1)
    assert services.mark_all_read(actor=cast.student) == 3
    assert services.mark_all_read(actor=cast.student) == 0
    assert cast.student.unread_notifications == 0
    cast.student2.refresh_from_db()
    assert cast.student2.unread_notifications == 1
    assert services.recount_unread() == 0


def test_email_preferences_default_on_and_change_per_kind(cast: Cast) -> None:
    from studyhall.notifications.selectors import email_choices

    assert all(email_choices(cast.student).values())
    choices = services.set_email_preferences(
        actor=cast.student, by_email={Kind.REMINDER: False, Kind.RECAP: True}
    )
    assert choices[Kind.REMINDER] is False and choices[Kind.RECAP] is True
    assert choices[Kind.INVITATION] is True
    from studyhall.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.set_email_preferences(actor=cast.student, by_email={"payouts": False})
