"""The console's part of the demo: a term of history (15 weeks of sessions for several tutors
and students), a pending tutor application, a flagged completion, an unanswered request and a
session whose logging closed. Written in bulk so `make run` stays quick; the earnings go
through the ledger's own posting so balances and payouts add up."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.money import earnings_cents
from studyhall.ledger.services import deposit_earning
from studyhall.orgs.models import (
    ApprovalStatus,
    Course,
    Enrollment,
    Member,
    Membership,
    Organization,
    Program,
    Role,
    TutorCourse,
)
from studyhall.tutoring.models import (
    Completion,
    Mode,
    Origin,
    Participant,
    ParticipantState,
    Session,
    Status,
    TutorAbsenceReport,
)

WEEKS = 15
SESSIONS_PER_WEEK = 22
TUTORS = [
    ("priya@demo.test", "Priya Natarajan", "T-1001"),
    ("marcus@demo.test", "Marcus Bell", "T-1002"),
    ("lena@demo.test", "Lena Okafor", "T-1003"),
]
STUDENTS = [
    (f"student{n}@demo.test", name, f"S-{2000 + n}")
    for n, name in enumerate(
        [
            "Ava Brooks",
            "Ben Ortiz",
            "Chloe Kim",
            "Diego Silva",
            "Ella Novak",
            "Finn Walsh",
            "Grace Liu",
            "Hugo Marin",
            "Isla Reid",
            "Jack Patel",
            "Kira Young",
            "Leo Adams",
        ],
        start=3,
    )
]
RECAP = {
    "topics_covered": "Worked through the week's problem set, one concept at a time, and "
    "checked each answer against the textbook's method.",
    "tutee_progress": "Solved most problems independently after the first worked example and "
    "explained the reasoning back in their own words.",
    "next_steps": "Finish the remaining odd-numbered problems and bring questions to the next "
    "session.",
}


def seed_history(
    *, sender: Any, organization: Organization, people: dict[str, User], **_: Any
) -> None:
    rng = random.Random(20260901)
    password = make_password("studyhall-demo")
    tutors = _people(organization, TUTORS, [Role.TUTOR], password)
    students = _people(organization, STUDENTS, [Role.STUDENT], password)
    students += [people["student"], people["student2"]]
    courses = list(Course.objects.filter(organization=organization).order_by("code"))
    for tutor in tutors:
        for course in courses[:2] if tutor.email != "lena@demo.test" else courses[1:]:
            TutorCourse.objects.get_or_create(course=course, tutor=tutor)
    Enrollment.objects.bulk_create(
        [Enrollment(course=c, student=s) for c in courses for s in students],
        ignore_conflicts=True,
    )
    # A pending application: Lena asks to tutor chemistry, with a note.
    TutorCourse.objects.update_or_create(
        course=courses[0],
        tutor=tutors[2],
        defaults={
            "status": ApprovalStatus.UNVERIFIED,
            "note": "A in CHEM 110 and CHEM 120; lab assistant last spring.",
        },
    )
    now = timezone.now().replace(second=0, microsecond=0)
    zone = organization.zone
    pairs = [(t, c) for t in tutors for c in courses if c != courses[0] or t != tutors[2]]
    pairs = [
        p
        for p in pairs
        if TutorCourse.objects.filter(
            course=p[1], tutor=p[0], status=ApprovalStatus.ACTIVE
        ).exists()
    ]
    # The history is paid by the open default program (the demo's grant starts later).
    default = Program.objects.filter(organization=organization, is_default=True).first()
    planned: list[tuple[Session, list[User], str]] = []
    for week in range(WEEKS, 0, -1):
        monday = (now - timedelta(weeks=week)).astimezone(zone).replace(hour=0, minute=0)
        monday -= timedelta(days=monday.weekday())
        for _n in range(SESSIONS_PER_WEEK - rng.randrange(0, 8)):
            tutor, course = rng.choice(pairs)
            start = monday + timedelta(days=rng.randrange(0, 5), hours=rng.randrange(9, 19))
            mode = rng.choice([Mode.IN_PERSON, Mode.IN_PERSON, Mode.ONLINE])
            group = rng.sample(students, 2 if rng.random() < 0.15 else 1)
            outcome = rng.choices(
                [Status.COMPLETED, Status.CANCELED, Status.MISSED], weights=[86, 9, 5]
            )[0]
            session = Session(
                organization=organization,
                program=default,
                course=course,
                tutor=tutor,
                mode=mode,
                location="Learning Commons, table 4" if mode == Mode.IN_PERSON else "",
                scheduled_start=start,
                planned_minutes=rng.choice([30, 45, 60, 60, 90]),
                status=outcome,
                origin=rng.choice([Origin.REQUEST, Origin.INVITATION]),
                created_by=tutor,
                cancel_reason="Student was ill." if outcome == Status.CANCELED else "",
                canceled_by=group[0] if outcome == Status.CANCELED else None,
                ended_at=start + timedelta(hours=2),
            )
            planned.append((session, group, outcome))
    Session.objects.bulk_create([s for s, _, _ in planned])
    Participant.objects.bulk_create(
        [
            Participant(
                session=s,
                user=u,
                state=ParticipantState.ACCEPTED
                if ending != Status.CANCELED
                else ParticipantState.DECLINED,
                responded_at=s.scheduled_start - timedelta(days=1),
            )
            for s, group, ending in planned
            for u in group
        ]
    )
    rate = organization.default_hourly_rate_cents
    completions = []
    flagged = False
    for session, _group, result in planned:
        if result != Status.COMPLETED:
            continue
        minutes = max(5, session.planned_minutes - rng.choice([0, 0, 5, 10]))
        online = session.mode == Mode.ONLINE
        # One flagged completion: logged (and paid) 90 minutes where the classroom measured 20.
        overlog = online and not flagged and session.scheduled_start < now - timedelta(weeks=2)
        flagged = flagged or overlog
        if overlog:
            minutes = 90
        earning = deposit_earning(
            program=default,
            organization=organization,
            tutor_id=session.tutor_id,
            session_id=session.pk,
            amount_cents=earnings_cents(hourly_rate_cents=rate, minutes=minutes),
            description=f"{session.course.code} session · {minutes} min",
            created_by=session.tutor,
        )
        completions.append(
            Completion(
                session=session,
                minutes=minutes,
                hourly_rate_cents=rate,
                earning=earning.transfer,
                completed_by=session.tutor,
                measured_seconds=(20 * 60 if overlog else minutes * 60) if online else None,
                overlogged=overlog,
                **RECAP,
            )
        )
    Completion.objects.bulk_create(completions)
    _unanswered_request(organization, tutors[0], students[0], courses[1], now)
    _logging_closed(organization, tutors[1], students[1], courses[0], now)
    _tutor_reported_absent(organization, tutors[1], students[0], courses[0], now)


def _people(
    organization: Organization, rows: list[tuple[str, str, str]], roles: list[Role], password: str
) -> list[User]:
    users = []
    for email, name, school_id in rows:
        user, _ = User.objects.get_or_create(
            email=email,
            defaults={"name": name, "password": password, "time_zone": organization.time_zone},
        )
        Member.objects.get_or_create(
            organization=organization, user=user, defaults={"school_id": school_id}
        )
        for role in roles:
            Membership.objects.get_or_create(
                organization=organization,
                user=user,
                role=role,
                defaults={"employee_id": school_id if role == Role.TUTOR else ""},
            )
        users.append(user)
    return users


def _unanswered_request(
    organization: Organization, tutor: User, student: User, course: Course, now: datetime
) -> None:
    session = Session.objects.create(
        organization=organization,
        course=course,
        tutor=tutor,
        mode=Mode.ONLINE,
        scheduled_start=now + timedelta(days=3),
        planned_minutes=60,
        status=Status.REQUESTED,
        origin=Origin.REQUEST,
        created_by=student,
        notes="Midterm review, please",
    )
    Participant.objects.create(session=session, user=student, state=ParticipantState.ACCEPTED)
    Session.objects.filter(pk=session.pk).update(created_at=now - timedelta(hours=30))


def _logging_closed(
    organization: Organization, tutor: User, student: User, course: Course, now: datetime
) -> None:
    start = now - timedelta(hours=organization.grace_hours + 30)
    session = Session.objects.create(
        organization=organization,
        course=course,
        tutor=tutor,
        mode=Mode.IN_PERSON,
        location="Learning Commons, table 2",
        scheduled_start=start,
        planned_minutes=60,
        status=Status.SCHEDULED,
        origin=Origin.INVITATION,
        created_by=tutor,
        notes="Titration lab write-up",
    )
    Participant.objects.create(session=session, user=student, state=ParticipantState.ACCEPTED)


def _tutor_reported_absent(
    organization: Organization, tutor: User, student: User, course: Course, now: datetime
) -> None:
    """An in-person session a student reported the tutor absent at, awaiting the admin."""
    session = Session.objects.create(
        organization=organization,
        course=course,
        tutor=tutor,
        mode=Mode.IN_PERSON,
        location="Learning Commons, table 5",
        scheduled_start=now - timedelta(hours=2),
        planned_minutes=60,
        status=Status.SCHEDULED,
        origin=Origin.INVITATION,
        created_by=tutor,
        notes="Problem set 4",
        tutor_absence_reported_at=now - timedelta(hours=1),
    )
    Participant.objects.create(session=session, user=student, state=ParticipantState.ACCEPTED)
    TutorAbsenceReport.objects.create(
        session=session, reporter=student, note="Waited 30 minutes at the table."
    )
