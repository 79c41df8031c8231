"""Who may book what: students book tutors approved for the courses they take; tutors invite
students of the courses they are approved for, up to the organization's group size."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from studyhall.core.errors import DomainError, InvalidInput, RuleViolation
from studyhall.core.models import AuditEntry
from studyhall.orgs import selectors as org_selectors
from studyhall.orgs.models import Enrollment, Role, TutorCourse
from studyhall.testing import factories as f
from studyhall.tutoring.models import Mode, Session, Status
from studyhall.tutoring.services.scheduling import accept_session, create_session

if TYPE_CHECKING:
    from conftest import Cast


def request(cast: Cast, **overrides: Any) -> Session:
    kwargs: dict[str, Any] = {
        "actor": cast.student,
        "organization_id": cast.org.pk,
        "course_id": cast.course.pk,
        "mode": Mode.ONLINE,
        "scheduled_start": timezone.now() + timedelta(days=2),
        "planned_minutes": 60,
        "tutor_id": cast.tutor.pk,
    }
    kwargs.update(overrides)
    return create_session(**kwargs)


def invite(cast: Cast, *students: Any, **overrides: Any) -> Session:
    kwargs: dict[str, Any] = {
        "actor": cast.tutor,
        "organization_id": cast.org.pk,
        "course_id": cast.course.pk,
        "mode": Mode.IN_PERSON,
        "location": "Library room 2",
        "scheduled_start": timezone.now() + timedelta(days=2),
        "planned_minutes": 60,
        "student_ids": [s.pk for s in students or (cast.student,)],
    }
    kwargs.update(overrides)
    return create_session(**kwargs)


def refused(error: type[DomainError], code: str, call: Any, *args: Any, **kw: Any) -> DomainError:
    before = (Session.objects.count(), AuditEntry.objects.count())
    with pytest.raises(error) as raised:
        call(*args, **kw)
    assert raised.value.code == code
    assert (Session.objects.count(), AuditEntry.objects.count()) == before
    return raised.value


def test_a_student_requests_an_approved_tutor_of_a_course_they_take(cast: Cast) -> None:
    session = request(cast)
    assert session.status == Status.REQUESTED
    accept_session(session_id=session.pk, actor=cast.tutor)
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED


def test_a_student_cannot_book_a_course_they_do_not_take(cast: Cast) -> None:
    Enrollment.objects.filter(student=cast.student).delete()
    error = refused(RuleViolation, "not_enrolled", request, cast)
    assert error.message == (
        "You are not enrolled in CHEM 110; you can book tutors for the courses you take."
    )
    assert error.extra == {"user_ids": [cast.student.pk]}


def test_a_student_cannot_book_a_tutor_not_approved_for_the_course(cast: Cast) -> None:
    TutorCourse.objects.filter(tutor=cast.other_tutor).delete()
    error = refused(InvalidInput, "tutor_not_approved", request, cast, tutor_id=cast.other_tutor.pk)
    assert error.message == "Otto Tutor does not tutor CHEM 110; choose one of its tutors."


def test_a_tutor_invites_only_for_a_course_they_are_approved_for(cast: Cast) -> None:
    TutorCourse.objects.filter(tutor=cast.tutor).delete()
    error = refused(RuleViolation, "tutor_not_approved", invite, cast)
    assert error.message == (
        "You are not approved to tutor CHEM 110 yet; your program admin approves tutors for "
        "each course."
    )


def test_a_tutor_invites_only_students_of_the_course(cast: Cast) -> None:
    newcomer = f.add_member(cast.org, f.make_user(name="Nia Newcomer"), Role.STUDENT)
    error = refused(RuleViolation, "not_enrolled", invite, cast, cast.student, newcomer)
    assert error.message == "Nia Newcomer is not enrolled in CHEM 110."
    assert error.extra == {"user_ids": [newcomer.pk]}


def test_the_group_size_is_the_orgs_policy(cast: Cast) -> None:
    cast.org.max_group_size = 2
    cast.org.save()
    third = f.add_member(cast.org, f.make_user(), Role.STUDENT)
    f.enroll(cast.course, third)
    error = refused(
        RuleViolation, "group_too_large", invite, cast, cast.student, cast.student2, third
    )
    assert error.message == "A group session has at most 2 students."
    assert len(invite(cast, cast.student, cast.student2).participants.all()) == 2


# -- the selectors behind the booking pages ----------------------------------------------------


def test_courses_and_people_for_booking(cast: Cast) -> None:
    calc = f.make_course(cast.org, code="MATH 151")
    f.approve(calc, cast.other_tutor)
    f.enroll(calc, cast.student)
    # Approvals and enrollments in another organization, or of people who no longer hold the
    # role, do not show.
    foreign = f.make_course(cast.other_org, code="BIO 101")
    f.enroll(foreign, cast.student)
    f.approve(foreign, cast.outsider)
    former = f.make_user(name="Former Tutor")
    f.approve(cast.course, former)

    assert org_selectors.enrolled_courses(cast.student) == [cast.course, calc]
    assert org_selectors.enrolled_courses(cast.tutor) == []
    assert org_selectors.tutored_courses(cast.tutor) == [cast.course]
    assert org_selectors.tutored_courses(cast.other_tutor) == [cast.course, calc]
    assert org_selectors.tutors_of_course(cast.course) == [cast.other_tutor, cast.tutor]
    assert org_selectors.tutors_of_course(calc) == [cast.other_tutor]
    assert org_selectors.students_of_course(cast.course) == [cast.student, cast.student2]
