"""An org admin books a session for a tutor: the tutor's invitation in all but who made it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from studyhall.core.errors import DomainError, Forbidden, InvalidInput, NotFound, RuleViolation
from studyhall.core.models import AuditEntry
from studyhall.notifications.models import Notification
from studyhall.orgs.models import Role
from studyhall.testing import factories as f
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.limit_rules import LimitExceeded
from studyhall.tutoring.models import Mode, Origin, Participant, ParticipantState, Session, Status
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.scheduling import accept_session, book_for_tutor

if TYPE_CHECKING:
    from conftest import Cast

PS = ParticipantState


def book(cast: Cast, **overrides: Any) -> Session:
    kwargs: dict[str, Any] = {
        "actor": cast.admin,
        "organization_id": cast.org.pk,
        "tutor_id": cast.tutor.pk,
        "student_ids": [cast.student.pk, cast.student2.pk],
        "course_id": cast.course.pk,
        "mode": Mode.ONLINE,
        "scheduled_start": timezone.now() + timedelta(days=2),
        "planned_minutes": 45,
        "notes": "Booked at the front desk",
    }
    kwargs.update(overrides)
    return book_for_tutor(**kwargs)


def states(session: Session) -> dict[int, str]:
    return dict(Participant.objects.filter(session=session).values_list("user_id", "state"))


def test_an_admin_books_a_session_that_the_students_accept(cast: Cast) -> None:
    session = book(cast)
    session.refresh_from_db()
    assert (session.status, session.origin, session.tutor, session.created_by) == (
        Status.INVITED,
        Origin.INVITATION,
        cast.tutor,
        cast.admin,
    )
    assert (session.planned_minutes, session.notes, session.recorded_after_the_fact) == (
        45,
        "Booked at the front desk",
        False,
    )
    assert states(session) == {cast.student.pk: PS.INVITED, cast.student2.pk: PS.INVITED}
    entry = AuditEntry.objects.get(session=session)
    assert (entry.action, entry.actor) == ("session.created", cast.admin)
    assert entry.data["booked_for_tutor_id"] == cast.tutor.pk
    assert entry.data["student_ids"] == [cast.student.pk, cast.student2.pk]

    run_queued_tasks()
    titles = dict(Notification.objects.filter(session=session).values_list("user__email", "title"))
    assert titles == {
        "tutor@example.test": (
            "Ada Admin booked a CHEM 110 session for you to tutor; your students accept it."
        ),
        "maya@example.test": (
            "Ada Admin booked you a CHEM 110 tutoring session with Tess Tutor. "
            "Accept or decline it on the session page."
        ),
        "sam@example.test": (
            "Ada Admin booked you a CHEM 110 tutoring session with Tess Tutor. "
            "Accept or decline it on the session page."
        ),
    }

    accept_session(session_id=session.pk, actor=cast.student)
    accept_session(session_id=session.pk, actor=cast.student2)
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED


def test_a_walk_in_logged_after_the_fact_still_needs_the_student_and_the_tutor(
    cast: Cast,
) -> None:
    session = book(
        cast,
        student_ids=[cast.student.pk],
        mode=Mode.IN_PERSON,
        location="Learning center, table 4",
        scheduled_start=timezone.now() - timedelta(hours=2),
        planned_minutes=30,
    )
    session.refresh_from_db()
    assert (session.status, session.recorded_after_the_fact, session.location) == (
        Status.INVITED,
        True,
        "Learning center, table 4",
    )
    # The admin cannot log it, and the tutor cannot until the student agrees it happened.
    with pytest.raises(Forbidden):
        complete_session(session_id=session.pk, actor=cast.admin, minutes=30, recap=f.GOOD_RECAP)
    with pytest.raises(RuleViolation) as raised:
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP)
    assert raised.value.code == "participants_not_accepted"
    session.refresh_from_db()
    assert session.status == Status.INVITED

    accept_session(session_id=session.pk, actor=cast.student)
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP)
    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    assert session.completion.minutes == 30


def _refused(cast: Cast, error: type[DomainError], **overrides: Any) -> DomainError:
    with pytest.raises(error) as raised:
        book(cast, **overrides)
    assert Session.objects.count() == 0
    assert not AuditEntry.objects.filter(action="session.created").exists()
    return raised.value


def test_the_tutor_must_be_approved_for_the_course(cast: Cast) -> None:
    other = f.make_course(cast.org, code="PHYS 101")
    f.enroll(other, cast.student, cast.student2)
    error = _refused(cast, InvalidInput, course_id=other.pk)
    assert error.code == "tutor_not_approved"
    assert error.message == "Tess Tutor does not tutor PHYS 101; choose one of its tutors."


def test_every_student_must_take_the_course(cast: Cast) -> None:
    newcomer = f.add_member(cast.org, f.make_user(email="nia@example.test", name="Nia New"),
                            Role.STUDENT)  # fmt: skip
    error = _refused(cast, RuleViolation, student_ids=[cast.student.pk, newcomer.pk])
    assert (error.code, error.message) == ("not_enrolled", "Nia New is not enrolled in CHEM 110.")


def test_the_tutor_cannot_also_be_a_student(cast: Cast) -> None:
    error = _refused(cast, InvalidInput, student_ids=[cast.tutor.pk])
    assert error.code == "tutor_is_student"
    assert error.extra["field"] == "students"


def test_the_booking_limits_hold(cast: Cast) -> None:
    cast.org.tutor_weekly_minutes = 30
    cast.org.save(update_fields=["tutor_weekly_minutes"])
    error = _refused(cast, LimitExceeded)
    assert error.extra["limit"] == "tutor_weekly"


def test_the_start_may_lie_only_the_grace_period_back(cast: Cast) -> None:
    start = timezone.now() - timedelta(hours=cast.org.grace_hours + 1)
    error = _refused(cast, RuleViolation, scheduled_start=start)
    assert error.code == "start_too_far_in_past"


def test_an_unknown_tutor_is_refused(cast: Cast) -> None:
    error = _refused(cast, InvalidInput, tutor_id=cast.student.pk)
    assert error.code == "unknown_tutor"


@pytest.mark.parametrize(
    ("who", "error"),
    [("tutor", Forbidden), ("student", Forbidden), ("outsider", NotFound), ("agent", NotFound)],
)
def test_only_the_organizations_admins_book_for_a_tutor(
    cast: Cast, who: str, error: type[DomainError]
) -> None:
    _refused(cast, error, actor=getattr(cast, who))
