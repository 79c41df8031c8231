"""`manage.py seed_demo`: Demo University with a tutor, students, an admin, a support agent and
sessions in every interesting state, placed relative to now. `--if-empty` leaves an existing
demo alone (so `make run` can call it every time) and just prints the sign-ins."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.demo import demo_seeded
from studyhall.ledger.demo import seed_demo_payouts
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
)
from studyhall.orgs.services.programs import open_default_program
from studyhall.tutoring.models import Mode, Session
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.scheduling import (
    accept_session,
    create_session,
)

DEMO_PASSWORD = "studyhall-demo"
# The demo admin's and support agent's authenticator-app secret (base32), told in the README.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEMO_SLUG = "demo-university"
PEOPLE = [
    # email, name, roles, support agent
    ("tutor@demo.test", "Jordan Rivera", [Role.TUTOR, Role.STUDENT], False),
    ("student@demo.test", "Maya Chen", [Role.STUDENT], False),
    ("student2@demo.test", "Sam Lee", [Role.STUDENT], False),
    ("admin@demo.test", "Alex Morgan", [Role.ADMIN], False),
    ("support@demo.test", "Robin Support", [], True),
]
COURSES = [
    ("CHEM 110", "General Chemistry I"),
    ("MATH 151", "Calculus I"),
    ("CS 101", "Introduction to Programming"),
]
LAST_WEEK_RECAP = {
    "topics_covered": "Derivatives of polynomial and trigonometric functions, the chain rule, "
    "and two related-rates word problems from the practice exam.",
    "tutee_progress": "Maya set up both word problems on her own and only needed a hint on "
    "differentiating the composite function.",
    "next_steps": "Work through problems 12-20 in section 3.4 and bring any chain-rule "
    "questions next time.",
}


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Run the real services as if it were `moment`, so past sessions get a history that is
    consistent with their dates (creation, acceptance, completion and payment times)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


class Command(BaseCommand):
    help = "Load the demo organization, people and sessions (relative to now)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (but print the sign-ins) when the demo already exists.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Organization.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write("Demo data already loaded (make demo-reset starts afresh).")
        else:
            # The demo's invitations and recaps would otherwise flood the console on first run.
            with (
                override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
                transaction.atomic(),
            ):
                self.seed()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.print_sign_ins()

    def print_sign_ins(self) -> None:
        port = os.environ.get("PORT", "8000")
        self.stdout.write(f"\nSign in at http://127.0.0.1:{port}/ with any of these:")
        for email, name, roles, agent in PEOPLE:
            what = "support agent" if agent else " + ".join(r.label.lower() for r in roles)
            self.stdout.write(f"  {email:<22} {DEMO_PASSWORD}   ({name}, {what})")
        self.stdout.write("")

    def seed(self) -> None:
        org, _ = Organization.objects.update_or_create(
            slug=DEMO_SLUG,
            defaults={
                "name": "Demo University",
                "time_zone": "America/New_York",
                "currency": "USD",
                "default_hourly_rate_cents": 1500,
                # The demo's sessions are paid as they are completed, so its tour of
                # completion and payouts reads simply; turn it on to try confirmations.
                "confirmations_required": False,
                # Recaps that repeat earlier ones are flagged for the admin, not refused.
                "recap_check": "flag",
            },
        )
        people: dict[str, User] = {}
        # One hash for the one demo password: each costs a third of a second by design, and
        # the browser tests load the demo once per test file.
        password = make_password(DEMO_PASSWORD)
        for email, name, roles, agent in PEOPLE:
            user = User.objects.filter(email=email).first() or User.objects.create_user(email=email)
            user.name = name
            user.time_zone = "America/New_York"
            user.is_support_agent = agent
            user.is_staff = agent
            user.password = password
            user.save()
            # Admins and agents sign in with a second factor: the demo's is a known TOTP
            # secret (the README tells it), so anyone trying the demo can add it to an app.
            if (agent or Role.ADMIN in roles) and not Authenticator.objects.filter(
                user=user, type="totp"
            ).exists():
                TOTP.activate(user, DEMO_TOTP_SECRET)
            if roles:
                Member.objects.get_or_create(organization=org, user=user)
            for role in roles:
                Membership.objects.get_or_create(organization=org, user=user, role=role)
            people[email.split("@")[0]] = user
        courses = [
            Course.objects.update_or_create(organization=org, code=code, defaults={"title": title})[
                0
            ]
            for code, title in COURSES
        ]
        self.seed_courses(courses, people)
        self.seed_programs(org, courses, people)
        # The demo packs a week of session states into a few days, more than the one session
        # a day a tutor and a student may book, so the daily limit is lifted while it books.
        daily = org.pair_sessions_per_day
        org.pair_sessions_per_day = 24
        org.save(update_fields=["pair_sessions_per_day"])
        self.seed_sessions(org, courses, people)
        org.pair_sessions_per_day = daily
        org.save(update_fields=["pair_sessions_per_day"])
        # Payroll (works offline), and last week's earning already in a scheduled payout.
        seed_demo_payouts(organization=org, tutor=people["tutor"])
        demo_seeded.send(sender=Command, organization=org, people=people)

    def seed_courses(self, courses: list[Course], people: dict[str, User]) -> None:
        """Jordan tutors all three courses; Maya takes all three, Sam chemistry and calculus."""
        chem, calc, _cs = courses
        for course in courses:
            TutorCourse.objects.get_or_create(course=course, tutor=people["tutor"])
        for student, taken in ((people["student"], courses), (people["student2"], [chem, calc])):
            for course in taken:
                Enrollment.objects.get_or_create(course=course, student=student)

    def seed_programs(
        self, org: Organization, courses: list[Course], people: dict[str, User]
    ) -> None:
        """Two programs: a STEM grant paying for Maya's and Sam's chemistry and calculus, and
        the open default program for everything else (so every demo booking is paid for)."""
        chem, calc, _cs = courses
        open_default_program(org)
        today = timezone.localdate()
        grant, _ = Program.objects.update_or_create(
            organization=org,
            name="STEM Success grant",
            defaults={
                "starts_on": today - timedelta(days=120),
                "ends_on": today + timedelta(days=240),
                "budget_unit": BudgetUnit.MONEY,
                "budget_amount": 250_000,
                "is_default": False,
            },
        )
        grant.courses.set([chem, calc])
        grant.students.set([people["student"], people["student2"]])

    def seed_sessions(
        self, org: Organization, courses: list[Course], people: dict[str, User]
    ) -> None:
        tutor, maya, sam = people["tutor"], people["student"], people["student2"]
        chem, calc, cs = courses
        now = timezone.now().replace(second=0, microsecond=0)

        def book(
            start: datetime,
            minutes: int,
            course: Course,
            students: list[User],
            mode: str = Mode.IN_PERSON,
            accepted_by: list[User] | None = None,
            notes: str = "",
            booked_at: datetime | None = None,
        ) -> Session:
            with clock_at(booked_at or min(now, start) - timedelta(days=2)):
                session = create_session(
                    actor=tutor,
                    organization_id=org.pk,
                    course_id=course.pk,
                    mode=mode,
                    location="Library, group study room 2" if mode == Mode.IN_PERSON else "",
                    scheduled_start=start,
                    planned_minutes=minutes,
                    notes=notes,
                    student_ids=[s.pk for s in students],
                )
                for student in accepted_by if accepted_by is not None else students:
                    accept_session(session_id=session.pk, actor=student)
            return session

        # Completed last week, with its recap and earning ($15.00/h × 55 min = $13.75).
        last_week = book(now - timedelta(days=7), 60, calc, [maya], notes="Exam 1 review")
        with clock_at(last_week.scheduled_end + timedelta(minutes=10)):
            complete_session(
                session_id=last_week.pk, actor=tutor, minutes=55, recap=LAST_WEEK_RECAP
            )
        # Ended 80 hours ago and never logged: the grace period has closed.
        book(now - timedelta(hours=81), 60, chem, [maya], notes="Stoichiometry practice")
        # Ready to complete: in person, began two hours ago.
        book(now - timedelta(hours=2), 60, chem, [maya], notes="Limiting reagents")
        # Ready to complete: online, ended an hour ago.
        book(now - timedelta(hours=2), 60, cs, [maya], mode=Mode.ONLINE, notes="Loops and lists")
        # Online and under way: began ten minutes ago, so its classroom is open to join now.
        book(now - timedelta(minutes=10), 45, calc, [maya], mode=Mode.ONLINE, notes="Related rates")
        # Group session that ended an hour ago; Sam never answered, which blocks completion
        # until the tutor removes him.
        book(
            now - timedelta(hours=2, minutes=30),
            90,
            calc,
            [maya, sam],
            accepted_by=[maya],
            notes="Group review: limits",
        )
        # Tomorrow, accepted.
        tomorrow = (now + timedelta(days=1)).astimezone(org.zone).replace(hour=15, minute=0)
        book(tomorrow, 45, chem, [maya], mode=Mode.ONLINE, notes="Equilibrium", booked_at=now)
