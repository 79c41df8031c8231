"""Personas shared by every test suite: one organization with a tutor, two students, another
tutor, an org admin, a support agent, and an outsider from a second organization."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from studyhall.accounts.models import User
from studyhall.orgs.models import Course, Organization, Role
from studyhall.testing import factories as f


@dataclass
class Cast:
    org: Organization
    course: Course
    tutor: User
    student: User
    student2: User
    other_tutor: User
    admin: User
    agent: User
    other_org: Organization
    outsider: User


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # The production hasher costs about a second per persona; tests do not need its strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(db: None) -> Cast:
    org = f.make_org(name="Test College", time_zone="America/New_York", currency="USD")
    other_org = f.make_org(name="Other College")
    tutor = f.add_member(
        org, f.make_user(email="tutor@example.test", name="Tess Tutor"), Role.TUTOR
    )
    student = f.add_member(
        org, f.make_user(email="maya@example.test", name="Maya Chen"), Role.STUDENT
    )
    student2 = f.add_member(
        org, f.make_user(email="sam@example.test", name="Sam Lee"), Role.STUDENT
    )
    other_tutor = f.add_member(
        org, f.make_user(email="otto@example.test", name="Otto Tutor"), Role.TUTOR
    )
    admin = f.add_member(org, f.make_user(email="admin@example.test", name="Ada Admin"), Role.ADMIN)
    agent = f.make_user(email="agent@example.test", name="Sue Support", is_support_agent=True)
    outsider = f.add_member(
        other_org,
        f.make_user(email="out@example.test", name="Olga Outsider"),
        Role.TUTOR,
        Role.STUDENT,
    )
    course = f.make_course(org, code="CHEM 110", title="General Chemistry")
    # Both students take the course and both tutors may tutor it, so booking is allowed.
    f.enroll(course, student, student2)
    f.approve(course, tutor, other_tutor)
    return Cast(
        org, course, tutor, student, student2, other_tutor, admin, agent, other_org, outsider
    )


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Rate-limit counters live in the cache; one test's failed sign-ins must not limit the next.
    from django.core.cache import cache

    cache.clear()
