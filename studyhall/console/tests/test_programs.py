"""The console's program pages: list, create, edit, archive, students, and the spend against
budget on the list, the program page and the console home."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import Cast
from studyhall.console.tests.conftest import signed_in
from studyhall.console.tests.test_lists import many_people
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import BudgetUnit, Program
from studyhall.testing import factories as f
from studyhall.tutoring.services.completion import complete_session


def url(cast: Cast, name: str, **kwargs: Any) -> str:
    return reverse(f"console:{name}", kwargs={"org_id": cast.org.pk, **kwargs})


def post_new(cast: Cast, **overrides: Any) -> Any:
    data: dict[str, Any] = {
        "name": "STEM grant",
        "starts_on": "2026-09-01",
        "ends_on": "2026-12-31",
        "budget_unit": "money",
        "budget": "1,500.00",
        "courses": [cast.course.pk],
    }
    data.update(overrides)
    return signed_in(cast.admin).post(url(cast, "programs"), data)


def test_an_admin_creates_a_program(cast: Cast) -> None:
    response = post_new(cast)
    program = Program.objects.get(name="STEM grant")
    assert response.status_code == 302
    assert response["Location"] == url(cast, "program", program_id=program.pk)
    assert (program.starts_on, program.ends_on) == (date(2026, 9, 1), date(2026, 12, 31))
    assert (program.budget_unit, program.budget_amount, program.is_default) == (
        "money",
        150_000,
        False,
    )
    assert list(program.courses.all()) == [cast.course]
    entry = AuditEntry.objects.get(action="program.created")
    assert (entry.actor, entry.data["program_id"], entry.data["budget_amount"]) == (
        cast.admin,
        program.pk,
        150_000,
    )


def test_hours_and_refusals_land_on_their_fields(cast: Cast) -> None:
    post_new(cast, name="Hours", budget_unit="hours", budget="12.5")
    assert Program.objects.get(name="Hours").budget_amount == 750
    response = post_new(cast, name="Hours", budget="abc", ends_on="2026-08-01")
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["budget"] == ["Enter an amount like 15.00, with at most two decimals"]
    response = post_new(cast, name="hours")
    assert response.context["form"].errors["name"] == ["There is already a program called hours."]
    response = post_new(cast, name="Backwards", ends_on="2026-08-01")
    assert response.context["form"].errors["ends_on"] == [
        "The program's last day comes before its first."
    ]
    assert not Program.objects.filter(name__in=["Backwards", "hours"]).exists()
    assert Program.objects.filter(organization=cast.org).count() == 2


def test_a_new_default_replaces_the_old_one(cast: Cast) -> None:
    old = Program.objects.get(organization=cast.org, is_default=True)
    post_new(cast, is_default="on", courses=[])
    new = Program.objects.get(name="STEM grant")
    assert new.is_default
    old.refresh_from_db()
    assert not old.is_default


def test_an_admin_edits_adds_students_and_archives(cast: Cast) -> None:
    program = f.make_program(cast.org, name="STEM grant", courses=[cast.course])
    client = signed_in(cast.admin)
    page = url(cast, "program", program_id=program.pk)
    response = client.get(page)
    assert response.status_code == 200
    assert b'<label for="id_name">Name</label>' in response.content
    response = client.post(
        url(cast, "program_students", program_id=program.pk),
        {"students": "maya@example.test\nnobody@example.test"},
    )
    assert response.status_code == 400
    assert response.context["students_form"].errors["students"] == [
        "No student of Test College is nobody@example.test."
    ]
    assert program.students.count() == 0
    client.post(
        url(cast, "program_students", program_id=program.pk),
        {"students": "maya@example.test\nSAM@example.test"},
    )
    assert set(program.students.all()) == {cast.student, cast.student2}
    client.post(
        url(cast, "program_student_remove", program_id=program.pk, user_id=cast.student2.pk)
    )
    assert list(program.students.all()) == [cast.student]
    response = client.post(
        page,
        {
            "name": "STEM grant 2",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "budget_unit": "hours",
            "budget": "40",
            "courses": [cast.course.pk],
            "tutors": [cast.tutor.pk],
        },
    )
    assert response.status_code == 302
    program.refresh_from_db()
    assert (program.name, program.budget_unit, program.budget_amount) == (
        "STEM grant 2",
        BudgetUnit.HOURS,
        2400,
    )
    assert list(program.tutors.all()) == [cast.tutor]
    assert list(program.students.all()) == [cast.student]  # editing keeps the students
    client.post(url(cast, "program_archive", program_id=program.pk))
    program.refresh_from_db()
    assert program.archived_at is not None
    actions = list(
        AuditEntry.objects.filter(data__program_id=program.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "program.students_added",
        "program.student_removed",
        "program.updated",
        "program.archived",
    ]


def test_spend_against_budget_shows_as_a_bar_and_a_table(cast: Cast) -> None:
    grant = f.make_program(
        cast.org,
        name="STEM grant",
        courses=[cast.course],
        students=[cast.student],
        budget_amount=6000,
    )
    done = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], program=grant)
    complete_session(session_id=done.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        program=grant,
        minutes=30,
        start=timezone.now() + timedelta(days=1),
    )
    client = signed_in(cast.admin)
    for page in (
        url(cast, "programs"),
        url(cast, "program", program_id=grant.pk),
        url(cast, "home"),
    ):
        html = client.get(page).content.decode()
        assert (
            "<title id=" in html
            and "STEM grant: $15.00 spent and $7.50 reserved of $60.00; $37.50 left</title>" in html
        ), page
        assert '<rect x="0" y="0" width="25.0" height="10" fill="#17386b">' in html
        assert '<rect x="25.0" y="0" width="12.5" height="10" fill="#4f86c6">' in html
        assert (
            '<tr><th scope="row">STEM grant</th><td>$60.00</td><td>$15.00</td><td>$7.50</td>'
            "<td>$37.50</td></tr>"
        ) in html


def fill_programs(cast: Cast, n: int) -> None:
    students = many_people(cast, 20)
    programs = Program.objects.bulk_create(
        [
            Program(
                organization=cast.org,
                name=f"Program {i:05d}",
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31),
                budget_unit=BudgetUnit.HOURS if i % 2 else BudgetUnit.MONEY,
                budget_amount=10_000,
            )
            for i in range(n)
        ]
    )
    through = Program.students.through
    through.objects.bulk_create(
        [through(program_id=p.pk, user_id=s.pk) for p in programs[:50] for s in students]
    )


@pytest.mark.parametrize("rows", [30, 2_000])
def test_the_program_list_is_paginated_with_pinned_queries(
    cast: Cast, django_assert_num_queries: Any, rows: int
) -> None:
    fill_programs(cast, rows)
    client = signed_in(cast.admin)
    page = url(cast, "programs") + "?page=2"
    client.get(page)
    # Session, user, organization and the admin check (4), the page's count and rows (2),
    # spend: ledger sums, minutes, corrections, reservations (4), the org switcher and the
    # chrome (2), the form's courses and tutors (4).
    with django_assert_num_queries(16):
        response = client.get(page)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == (6 if rows == 30 else 25)


@pytest.mark.parametrize("rows", [30, 2_000])
def test_the_program_page_lists_its_students_with_pinned_queries(
    cast: Cast, django_assert_num_queries: Any, rows: int
) -> None:
    program = f.make_program(cast.org, name="Big", courses=[cast.course])
    program.students.add(*many_people(cast, rows))
    client = signed_in(cast.admin)
    page = url(cast, "program", program_id=program.pk)
    client.get(page)
    with django_assert_num_queries(19):
        response = client.get(page)
    assert len(response.context["students"].object_list) == 25
