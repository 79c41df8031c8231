"""Every console list: paginated, with the same number of queries at 100 rows as at 10,000."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.console.models import ImportStatus, RosterImport
from studyhall.console.tests.conftest import signed_in
from studyhall.ledger.models import Account, AccountKind, Entry, Transfer, TransferKind
from studyhall.orgs.models import (
    ApprovalStatus,
    Course,
    Enrollment,
    Member,
    Membership,
    Role,
    TutorCourse,
)
from studyhall.tutoring.models import Mode, Origin, Participant, ParticipantState, Session, Status


def many_people(cast: Cast, n: int) -> list[User]:
    password = make_password(None)
    users = User.objects.bulk_create(
        [User(email=f"bulk{i}@college.test", name=f"Bulk {i}", password=password) for i in range(n)]
    )
    Member.objects.bulk_create(
        [
            Member(
                organization=cast.org,
                user=u,
                school_id=f"B-{i}",
                sort_name=u.name,
                sort_email=u.email,
            )
            for i, u in enumerate(users)
        ]
    )
    Membership.objects.bulk_create(
        [Membership(organization=cast.org, user=u, role=Role.STUDENT) for u in users]
    )
    return users


def fill_sessions(cast: Cast, n: int) -> None:
    start = timezone.now() - timedelta(days=30)
    sessions = Session.objects.bulk_create(
        [
            Session(
                organization=cast.org,
                course=cast.course,
                tutor=cast.tutor,
                mode=Mode.IN_PERSON,
                location="Room 1",
                scheduled_start=start + timedelta(minutes=i),
                planned_minutes=60,
                status=Status.SCHEDULED,
                origin=Origin.INVITATION,
                created_by=cast.tutor,
            )
            for i in range(n)
        ]
    )
    Participant.objects.bulk_create(
        [
            Participant(session=s, user=cast.student, state=ParticipantState.ACCEPTED)
            for s in sessions
        ]
    )


def fill_people(cast: Cast, n: int) -> None:
    many_people(cast, n)


def fill_courses(cast: Cast, n: int) -> None:
    Course.objects.bulk_create(
        [Course(organization=cast.org, code=f"C {i:05d}", title=f"Course {i}") for i in range(n)]
    )


def fill_approvals(cast: Cast, n: int) -> None:
    courses = Course.objects.bulk_create(
        [Course(organization=cast.org, code=f"A {i:05d}", title=f"Course {i}") for i in range(n)]
    )
    TutorCourse.objects.bulk_create(
        [TutorCourse(course=c, tutor=cast.tutor, status=ApprovalStatus.UNVERIFIED) for c in courses]
    )


def fill_enrollments(cast: Cast, n: int) -> None:
    Enrollment.objects.bulk_create(
        [Enrollment(course=cast.course, student=u) for u in many_people(cast, n)]
    )


def fill_imports(cast: Cast, n: int) -> None:
    RosterImport.objects.bulk_create(
        [
            RosterImport(
                organization=cast.org,
                uploaded_by=cast.admin,
                filename=f"r{i}.csv",
                content="",
                sha256="0" * 64,
                status=ImportStatus.CHECKED,
            )
            for i in range(n)
        ]
    )


def fill_person_sessions(cast: Cast, n: int) -> None:
    fill_sessions(cast, n)


def fill_tutor_earnings(cast: Cast, n: int) -> None:
    """Sessions the tutor tutored, each with an earning posted to their account."""
    fill_sessions(cast, n)
    account = Account.objects.create(
        kind=AccountKind.TUTOR_EARNINGS, organization=cast.org, user=cast.tutor, currency="USD"
    )
    sessions = list(Session.objects.filter(organization=cast.org).order_by("pk"))
    transfers = Transfer.objects.bulk_create(
        [
            Transfer(
                kind=TransferKind.EARNING,
                idempotency_key=f"bulk-earning-{s.pk}",
                amount_cents=1500,
                currency="USD",
                organization=cast.org,
                session=s,
                description="Earning",
            )
            for s in sessions
        ]
    )
    Entry.objects.bulk_create(
        [Entry(transfer=t, account=account, amount_cents=1500) for t in transfers]
    )


# (URL name, extra URL args, filling, query string, pinned queries)
LISTS: list[tuple[str, Callable[[Cast], dict[str, Any]], Callable[[Cast, int], None], str, int]] = [
    ("console:sessions", lambda c: {}, fill_sessions, "", 11),
    ("console:sessions", lambda c: {}, fill_sessions, "?q=maya&status=scheduled&page=3", 11),
    ("console:people", lambda c: {}, fill_people, "", 9),
    ("console:people", lambda c: {}, fill_people, "?role=student&q=bulk&page=2", 9),
    ("console:courses", lambda c: {}, fill_courses, "", 8),
    ("console:approvals", lambda c: {}, fill_approvals, "", 8),
    ("console:roster", lambda c: {}, fill_imports, "", 8),
    ("console:course", lambda c: {"course_id": c.course.pk}, fill_enrollments, "", 11),
    ("console:person", lambda c: {"user_id": c.student.pk}, fill_person_sessions, "", 22),
    ("console:person", lambda c: {"user_id": c.tutor.pk}, fill_tutor_earnings, "", 25),
]


# The main lists go to 10,000 rows; the filtered and nested ones to 2,000 (the same code
# paths, and the suite stays quick).
CASES = [
    (*row, rows)
    for index, row in enumerate(LISTS)
    for rows in (100, 10_000 if index in (0, 2, 4, 5) else 2_000)
]


@pytest.mark.parametrize(
    ("name", "args", "fill", "query", "queries", "rows"),
    CASES,
    ids=[f"{case[0]}{case[3]}-{case[5]}" for case in CASES],
)
def test_list_queries_are_pinned_and_flat(
    cast: Cast,
    django_assert_num_queries: Any,
    rows: int,
    name: str,
    args: Callable[[Cast], dict[str, Any]],
    fill: Callable[[Cast, int], None],
    query: str,
    queries: int,
) -> None:
    fill(cast, rows)
    client = signed_in(cast.admin)
    url = reverse(name, kwargs={"org_id": cast.org.pk, **args(cast)}) + query
    client.get(url)  # the session and the middleware's first-request work
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    page = response.context["page"] if "page" in response.context else response.context["sessions"]
    if name == "console:course":
        page = response.context["students"]
    assert len(page.object_list) == (10 if name in ("console:roster", "console:person") else 25)
