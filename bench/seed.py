"""Realistic data for the benchmark: 100,000 sessions in one organization, one tutor with
10,000 of them and one with 100, plus sessions ready to be completed."""

from __future__ import annotations

import os
import random
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.orgs.models import Course, Member, Membership, Program, Role, TutorCourse
from studyhall.testing import factories as f
from studyhall.tutoring.models import Mode, Origin, Participant, ParticipantState, Session, Status

PASSWORD = "bench-password-1"
TOTAL_SESSIONS = int(os.environ.get("BENCH_SESSIONS", "100000"))
BIG_TUTOR_SESSIONS = 10_000
SMALL_TUTOR_SESSIONS = 100
STUDENTS = 300
OTHER_TUTORS = 60
BATCH = 5_000


def seed(*, completable: int) -> dict[str, Any]:
    rng = random.Random(20261201)
    now = timezone.now()
    hashed = make_password(PASSWORD)
    with transaction.atomic():
        org = f.make_org(name="Bench College", time_zone="America/New_York", currency="USD")
        # Every session booked today carries the program that pays for it (the organization's
        # default one here), as booking records it.
        program = Program.objects.get(organization=org, is_default=True)
        courses = [f.make_course(org, code=f"BEN {100 + i}") for i in range(20)]
        users = User.objects.bulk_create(
            [
                User(email=f"student{i}@bench.test", name=f"Student {i}", password=hashed)
                for i in range(STUDENTS)
            ]
            + [
                User(email=f"tutor{i}@bench.test", name=f"Tutor {i}", password=hashed)
                for i in range(OTHER_TUTORS + 3)
            ]
        )
        students, tutors = users[:STUDENTS], users[STUDENTS:]
        big, small, completer, others = tutors[0], tutors[1], tutors[2], tutors[3:]
        Member.objects.bulk_create(
            Member(organization=org, user=u, sort_name=u.name, sort_email=u.email) for u in users
        )
        Membership.objects.bulk_create(
            [Membership(organization=org, user=u, role=Role.STUDENT) for u in students]
            + [Membership(organization=org, user=u, role=Role.TUTOR) for u in tutors]
        )
        TutorCourse.objects.bulk_create(
            TutorCourse(course=c, tutor=t) for c in courses for t in tutors
        )

    plan: list[tuple[User, int, str]] = [
        (big, BIG_TUTOR_SESSIONS, "history"),
        (small, SMALL_TUTOR_SESSIONS, "history"),
        (completer, completable, "ready"),
    ]
    rest = TOTAL_SESSIONS - BIG_TUTOR_SESSIONS - SMALL_TUTOR_SESSIONS - completable
    plan += [(t, rest // len(others), "history") for t in others]
    pending: list[tuple[Session, User]] = []

    def flush() -> None:
        with transaction.atomic():
            made = Session.objects.bulk_create([s for s, _ in pending])
            Participant.objects.bulk_create(
                Participant(session=s, user=u, state=ParticipantState.ACCEPTED)
                for s, (_, u) in zip(made, pending, strict=True)
            )
        pending.clear()

    for tutor, count, kind in plan:
        for i in range(count):
            if kind == "ready":
                start, status = now - timedelta(hours=2, minutes=i % 50), Status.SCHEDULED
            else:
                # A year of history behind, two months of bookings ahead.
                offset = timedelta(minutes=rng.randrange(-365 * 24 * 60, 60 * 24 * 60))
                start = now + offset
                if offset.total_seconds() > 0:
                    status = Status.SCHEDULED
                else:
                    status = rng.choice([Status.MISSED, Status.CANCELED, Status.MISSED])
            pending.append(
                (
                    Session(
                        organization=org,
                        program=program,
                        course=courses[rng.randrange(len(courses))],
                        tutor=tutor,
                        mode=Mode.IN_PERSON,
                        location="Library room 2",
                        scheduled_start=start,
                        planned_minutes=60,
                        status=status,
                        origin=Origin.INVITATION,
                        created_by=tutor,
                    ),
                    students[rng.randrange(len(students))],
                )
            )
            if len(pending) >= BATCH:
                flush()
    if pending:
        flush()
    return {
        "org": org.pk,
        "big": big.email,
        "small": small.email,
        "completer": completer.email,
        "sessions": Session.objects.count(),
        "ready": list(
            Session.objects.filter(tutor=completer, status=Status.SCHEDULED)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        "course": Course.objects.filter(organization=org).first(),
    }


# The console's lists, measured at two sizes: one organization with 100 people and 100
# sessions, one with 10,000 of each.
CONSOLE_SIZES = {"small": 100, "big": 10_000}


def console_org_name(size: int) -> str:
    return f"Console {size:,}"


def seed_console() -> dict[str, dict[str, Any]]:
    """Each organization's id and its admin's email, by size."""
    hashed = make_password(PASSWORD)
    now = timezone.now()
    made: dict[str, dict[str, Any]] = {}
    for label, size in CONSOLE_SIZES.items():
        with transaction.atomic():
            org = f.make_org(name=console_org_name(size), time_zone="America/New_York")
            program = Program.objects.get(organization=org, is_default=True)
            course = f.make_course(org, code="CON 101")
            admin = f.add_member(
                org,
                f.make_user(email=f"admin-{label}@bench.test", password=PASSWORD),
                Role.ADMIN,
            )
            tutor = f.add_member(org, f.make_user(email=f"ctutor-{label}@bench.test"), Role.TUTOR)
            people = User.objects.bulk_create(
                [
                    User(email=f"c{label}{i}@bench.test", name=f"Person {i}", password=hashed)
                    for i in range(size)
                ],
                batch_size=BATCH,
            )
            Member.objects.bulk_create(
                [
                    Member(
                        organization=org,
                        user=u,
                        school_id=f"C-{i}",
                        sort_name=u.name,
                        sort_email=u.email,
                    )
                    for i, u in enumerate(people)
                ],
                batch_size=BATCH,
            )
            Membership.objects.bulk_create(
                [Membership(organization=org, user=u, role=Role.STUDENT) for u in people],
                batch_size=BATCH,
            )
            sessions = Session.objects.bulk_create(
                [
                    Session(
                        organization=org,
                        program=program,
                        course=course,
                        tutor=tutor,
                        mode=Mode.IN_PERSON,
                        location="Library room 2",
                        scheduled_start=now - timedelta(minutes=30 * i),
                        planned_minutes=60,
                        status=Status.SCHEDULED if i % 3 else Status.CANCELED,
                        origin=Origin.INVITATION,
                        created_by=tutor,
                    )
                    for i in range(size)
                ],
                batch_size=BATCH,
            )
            Participant.objects.bulk_create(
                [
                    Participant(session=s, user=u, state=ParticipantState.ACCEPTED)
                    for s, u in zip(sessions, people, strict=True)
                ],
                batch_size=BATCH,
            )
        made[label] = {"org": org.pk, "admin": admin.email}
    return made


def seeded_console() -> dict[str, dict[str, Any]]:
    from studyhall.orgs.models import Organization

    made = {}
    for label, size in CONSOLE_SIZES.items():
        org = Organization.objects.get(name=console_org_name(size))
        made[label] = {"org": org.pk, "admin": f"admin-{label}@bench.test"}
    return made
