"""Small factories for tests and the demo seed: real rows through the real models."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.orgs.models import (
    BudgetUnit,
    Course,
    Enrollment,
    Member,
    Membership,
    Organization,
    Program,
    Role,
    TutorCourse,
    TutorRate,
)
from studyhall.orgs.services.programs import open_default_program
from studyhall.testing.second_factor import enrol_totp
from studyhall.tutoring.models import Mode, Origin, Participant, ParticipantState, Session, Status

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_user(
    *, email: str | None = None, name: str = "", password: str = PASSWORD, **extra: object
) -> User:
    n = next(_seq)
    user = User.objects.create_user(
        email=email or f"user{n}@example.test", password=password, name=name or f"User {n}", **extra
    )
    if user.is_support_agent:
        # Agents must hold a second factor before they reach any page.
        enrol_totp(user)
    return user


def make_org(*, name: str = "", default_program: bool = True, **extra: object) -> Organization:
    """An organization; by default with its open default program (no cap), so sessions book
    as they did before programs existed. Unless asked, it pays earnings at completion without
    waiting for the students' confirmation, and does not compare recaps (tests complete many
    sessions with one recap). The product's defaults are to wait and to refuse near-copies:
    the tests of confirmations and of recaps turn them on."""
    n = next(_seq)
    extra.setdefault("confirmations_required", False)
    extra.setdefault("recap_check", "off")
    org = Organization.objects.create(name=name or f"College {n}", slug=f"college-{n}", **extra)
    if default_program:
        open_default_program(org)
    return org


def make_program(
    org: Organization,
    *,
    name: str = "",
    courses: Sequence[Course] = (),
    students: Sequence[User] = (),
    tutors: Sequence[User] = (),
    starts_on: date | None = None,
    ends_on: date | None = None,
    budget_unit: str = BudgetUnit.MONEY,
    budget_amount: int | None = None,
    is_default: bool = False,
) -> Program:
    """A program written directly (not through the admin's service)."""
    n = next(_seq)
    today = timezone.localdate()
    program = Program.objects.create(
        organization=org,
        name=name or f"Program {n}",
        starts_on=starts_on or today - timedelta(days=30),
        ends_on=ends_on or today + timedelta(days=365),
        budget_unit=budget_unit,
        budget_amount=budget_amount,
        is_default=is_default,
    )
    program.courses.set(courses)
    program.students.set(students)
    program.tutors.set(tutors)
    return program


def make_course(org: Organization, *, code: str = "", title: str = "") -> Course:
    n = next(_seq)
    return Course.objects.create(
        organization=org, code=code or f"MATH {100 + n}", title=title or f"Course {n}"
    )


def add_member(
    org: Organization, user: User, *roles: Role, school_id: str = "", status: str = "active"
) -> User:
    Member.objects.get_or_create(
        organization=org, user=user, defaults={"school_id": school_id, "status": status}
    )
    for role in roles:
        Membership.objects.get_or_create(organization=org, user=user, role=role)
    if Role.ADMIN in roles:
        # Org admins must hold a second factor before they reach any page.
        enrol_totp(user)
    return user


def enroll(course: Course, *students: User) -> None:
    """The students take the course (they may book its tutors)."""
    for student in students:
        Enrollment.objects.get_or_create(course=course, student=student)


def approve(course: Course, *tutors: User) -> None:
    """The tutors are approved to tutor the course."""
    for tutor in tutors:
        TutorCourse.objects.get_or_create(course=course, tutor=tutor)


def set_rate(org: Organization, tutor: User, cents: int) -> TutorRate:
    rate, _ = TutorRate.objects.update_or_create(
        organization=org, tutor=tutor, defaults={"hourly_rate_cents": cents}
    )
    return rate


def make_session(
    *,
    org: Organization,
    tutor: User,
    students: list[User],
    course: Course | None = None,
    start: datetime | None = None,
    minutes: int = 60,
    mode: str = Mode.IN_PERSON,
    location: str = "Library room 2",
    states: list[str] | None = None,
    status: str | None = None,
    origin: str = Origin.INVITATION,
    program: Program | None = None,
) -> Session:
    """A session written directly (bypassing the booking rules) in the given state: for
    setting up a scene, not for testing how sessions are created. It is paid for by
    `program`, else the organization's default program."""
    states = states or [ParticipantState.ACCEPTED] * len(students)
    if status is None:
        status = Status.INVITED if ParticipantState.INVITED in states else Status.SCHEDULED
    if program is None:
        program = Program.objects.filter(organization=org, is_default=True).first()
    session = Session.objects.create(
        organization=org,
        program=program,
        course=course or Course.objects.filter(organization=org).first() or make_course(org),
        tutor=tutor,
        mode=mode,
        location=location if mode == Mode.IN_PERSON else "",
        scheduled_start=start or timezone.now() - timedelta(hours=1),
        planned_minutes=minutes,
        status=status,
        origin=origin,
        created_by=tutor,
    )
    for student, state in zip(students, states, strict=True):
        Participant.objects.create(session=session, user=student, state=state)
    return session


GOOD_RECAP = {
    "topics_covered": "Limits and continuity, with three worked examples of the squeeze theorem.",
    "tutee_progress": "Maya solved the last two problems on her own and explained each step.",
    "next_steps": "Practice the odd problems in section 2.3 before our next meeting.",
}
