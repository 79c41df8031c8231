"""Programs through the admin API: create, read, change, archive and their students, with
problem+json for what the services refuse (and nothing written)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import Program
from studyhall.testing import factories as f
from studyhall.tutoring.services.completion import complete_session

ApiAs = Callable[[User | None], Api]


def send(api: Api, method: str, path: str, body: Any = None) -> Any:
    return api.client.generic(
        method,
        "/api/v1" + path,
        json.dumps(body or {}),
        content_type="application/json",
        headers=api._headers(None),
    )


def test_create_read_change_and_archive_a_program(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    base = f"/admin/orgs/{cast.org.pk}/programs"
    response = api.post(
        base,
        {
            "name": "STEM grant",
            "starts_on": "2026-09-01",
            "ends_on": "2027-06-30",
            "budget_unit": "hours",
            "budget_amount": 6000,
            "course_ids": [cast.course.pk],
            "student_ids": [cast.student.pk],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    program = Program.objects.get(name="STEM grant")
    assert body == {
        "id": program.pk,
        "name": "STEM grant",
        "starts_on": "2026-09-01",
        "ends_on": "2027-06-30",
        "budget_unit": "hours",
        "budget_amount": 6000,
        "is_default": False,
        "archived": False,
        "course_ids": [cast.course.pk],
        "tutor_ids": [],
        "student_count": 1,
        "spent": 0,
        "reserved": 0,
        "left": 6000,
    }
    listed = api.get(base).json()
    assert [p["name"] for p in listed["programs"]] == ["General tutoring", "STEM grant"]
    assert listed["next_offset"] is None

    patched = send(api, "PATCH", f"{base}/{program.pk}", {"budget_amount": 3000, "name": "STEM"})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["name"], patched.json()["left"]) == ("STEM", 3000)
    assert patched.json()["student_count"] == 1  # students not given: kept

    added = api.post(f"{base}/{program.pk}/students", {"student_ids": [cast.student2.pk]})
    assert added.json() == {"added": 1}
    removed = send(api, "DELETE", f"{base}/{program.pk}/students/{cast.student.pk}")
    assert removed.json() == {"removed": True}
    again = send(api, "DELETE", f"{base}/{program.pk}/students/{cast.student.pk}")
    assert again.json() == {"removed": False}

    archived = send(api, "DELETE", f"{base}/{program.pk}")
    assert archived.status_code == 200
    assert archived.json()["archived"] is True
    assert api.get(base, archived="true").json()["programs"][0]["id"] == program.pk
    reopened = send(api, "PATCH", f"{base}/{program.pk}", {"archived": False})
    assert reopened.json()["archived"] is False
    assert list(
        AuditEntry.objects.filter(data__program_id=program.pk)
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "program.created",
        "program.updated",
        "program.students_added",
        "program.student_removed",
        "program.archived",
        "program.reopened",
    ]


def test_refusals_are_problems_and_write_nothing(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    base = f"/admin/orgs/{cast.org.pk}/programs"
    good = {
        "name": "STEM grant",
        "starts_on": "2026-09-01",
        "ends_on": "2027-06-30",
        "course_ids": [cast.course.pk],
    }
    body = assert_problem(api.post(base, {**good, "ends_on": "2026-01-01"}), 400, "invalid_dates")
    assert body["detail"] == "The program's last day comes before its first."
    assert_problem(
        api.post(base, {**good, "student_ids": [cast.outsider.pk]}), 400, "unknown_student"
    )
    assert_problem(api.post(base, {**good, "budget_amount": -1}), 400, "invalid_budget")
    assert_problem(api.post(base, {**good, "name": "general TUTORING"}), 409, "program_name_taken")
    assert api.post(base, {**good, "budget_unit": "beans"}).status_code == 422
    assert Program.objects.filter(organization=cast.org).count() == 1
    assert not AuditEntry.objects.filter(action__startswith="program.").exists()
    default = Program.objects.get(organization=cast.org, is_default=True)
    body = assert_problem(
        send(api, "DELETE", f"{base}/{default.pk}"), 422, "default_program_archived"
    )
    assert body["detail"].startswith("General tutoring is the default program;")


def test_spend_reads_the_same_as_the_console(cast: Cast, api_as: ApiAs) -> None:
    grant = f.make_program(
        cast.org,
        name="STEM grant",
        courses=[cast.course],
        students=[cast.student],
        budget_amount=5000,
    )
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], program=grant)
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP)
    body = api_as(cast.admin).get(f"/admin/orgs/{cast.org.pk}/programs/{grant.pk}").json()
    assert (body["spent"], body["reserved"], body["left"]) == (750, 0, 4250)
