"""The console's Sessions: an admin books a session for a tutor and cancels one with a reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from conftest import Cast
from studyhall.console.tests.conftest import signed_in
from studyhall.core.models import AuditEntry
from studyhall.notifications.models import Notification
from studyhall.orgs.models import Role
from studyhall.testing import factories as f
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.models import Participant, ParticipantState, Session, Status


def _form(cast: Cast, **overrides: Any) -> dict[str, Any]:
    start = timezone.now().astimezone(cast.org.zone) + timedelta(days=3)
    data = {
        "tutor": cast.tutor.pk,
        "course": cast.course.pk,
        "students": "maya@example.test,\nSAM@example.test",
        "date": start.date().isoformat(),
        "time": "15:00",
        "minutes": 30,
        "mode": "in_person",
        "location": "Learning center",
        "notes": "",
    }
    data.update(overrides)
    return data


def _new_url(cast: Cast) -> str:
    return reverse("console:session_new", kwargs={"org_id": cast.org.pk})


def test_the_booking_page_labels_every_field(cast: Cast) -> None:
    page = signed_in(cast.admin).get(_new_url(cast)).content.decode()
    for label in ("Tutor", "Course", "Students", "Date", "Start time", "Length", "Place"):
        assert f">{label}</" in page, label
    assert "America/New_York" in page
    assert "Tess Tutor" in page


def test_an_admin_books_a_session_by_student_email_and_school_id(cast: Cast) -> None:
    f.add_member(cast.org, cast.student2, Role.STUDENT)
    cast.org.members.filter(user=cast.student2).update(school_id="S-22")
    response = signed_in(cast.admin).post(
        _new_url(cast), _form(cast, students="maya@example.test S-22")
    )
    session = Session.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tutoring:detail", kwargs={"pk": session.pk})
    assert (session.tutor, session.created_by, session.status) == (
        cast.tutor,
        cast.admin,
        Status.INVITED,
    )
    local = session.scheduled_start.astimezone(cast.org.zone)
    assert (local.hour, local.minute, session.planned_minutes) == (15, 0, 30)
    assert set(Participant.objects.filter(session=session).values_list("user_id", "state")) == {
        (cast.student.pk, ParticipantState.INVITED),
        (cast.student2.pk, ParticipantState.INVITED),
    }


def _refused(cast: Cast, data: dict[str, Any]) -> str:
    response = signed_in(cast.admin).post(_new_url(cast), data)
    assert response.status_code == 400
    assert Session.objects.count() == 0
    assert not AuditEntry.objects.filter(action="session.created").exists()
    return response.content.decode()


def test_an_unknown_student_is_named_on_the_students_field(cast: Cast) -> None:
    page = _refused(cast, _form(cast, students="maya@example.test, nobody@example.test"))
    assert (
        "No student of Test College has the email or school ID &#x27;nobody@example.test&#x27;."
        in page
    )
    assert 'id="id_students_error"' in page


def test_a_tutor_not_approved_for_the_course_is_refused_on_the_tutor_field(cast: Cast) -> None:
    newcomer = f.add_member(cast.org, f.make_user(email="nt@example.test", name="Nat New"),
                            Role.TUTOR)  # fmt: skip
    page = _refused(cast, _form(cast, tutor=newcomer.pk))
    assert "Nat New does not tutor CHEM 110; choose one of its tutors." in page
    assert 'id="id_tutor_error"' in page


def test_a_start_older_than_the_grace_period_is_refused_on_the_date(cast: Cast) -> None:
    old = timezone.now().astimezone(cast.org.zone) - timedelta(days=5)
    page = _refused(cast, _form(cast, date=old.date().isoformat()))
    assert "at most 72 hours after it started" in page
    assert 'id="id_date_error"' in page


def _cancel_url(cast: Cast, session: Session) -> str:
    return reverse(
        "console:session_cancel", kwargs={"org_id": cast.org.pk, "session_id": session.pk}
    )


def _upcoming(cast: Cast) -> Session:
    return f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
                          start=timezone.now() + timedelta(days=1))  # fmt: skip


def test_an_admin_cancels_with_a_reason_and_everyone_is_told(cast: Cast) -> None:
    session = _upcoming(cast)
    client = signed_in(cast.admin)
    page = client.get(_cancel_url(cast, session)).content.decode()
    assert '<label for="id_reason">Reason</label>' in page
    response = client.post(_cancel_url(cast, session), {"reason": "The learning center is closed"})
    assert response.status_code == 302
    assert response["Location"] == reverse("console:sessions", kwargs={"org_id": cast.org.pk})
    session.refresh_from_db()
    assert (session.status, session.canceled_by, session.cancel_reason) == (
        Status.CANCELED,
        cast.admin,
        "The learning center is closed",
    )
    assert AuditEntry.objects.get(session=session, action="session.canceled").actor == cast.admin
    run_queued_tasks()
    titles = set(Notification.objects.filter(session=session).values_list("user_id", "title"))
    sentence = "Ada Admin canceled the CHEM 110 session. Reason: The learning center is closed"
    assert titles == {(u.pk, sentence) for u in (cast.tutor, cast.student, cast.student2)}


def test_cancelling_needs_a_reason(cast: Cast) -> None:
    session = _upcoming(cast)
    response = signed_in(cast.admin).post(_cancel_url(cast, session), {"reason": "  "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED
    assert not AuditEntry.objects.filter(session=session).exists()


def test_a_completed_session_cannot_be_canceled(cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student],
                             status=Status.COMPLETED)  # fmt: skip
    client = signed_in(cast.admin)
    assert "cannot be canceled" in client.get(_cancel_url(cast, session)).content.decode()
    response = client.post(_cancel_url(cast, session), {"reason": "Mistake"})
    assert response.status_code == 400
    assert "A session that is completed cannot be canceled." in response.content.decode()
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == (Status.COMPLETED, "")


def test_the_list_links_pending_sessions_to_their_cancel_page(cast: Cast) -> None:
    pending = _upcoming(cast)
    done = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student],
                          status=Status.COMPLETED)  # fmt: skip
    page = signed_in(cast.admin).get(reverse("console:sessions", kwargs={"org_id": cast.org.pk}))
    text = page.content.decode()
    assert _cancel_url(cast, pending) in text
    assert _cancel_url(cast, done) not in text
