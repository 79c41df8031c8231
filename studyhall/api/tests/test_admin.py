"""The org admin's API: the access matrix over every endpoint of the admin router, and the
bad input it refuses with problem+json, writing nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.api.routers.admin import router
from studyhall.api.tests.support import PROBLEM, Api, assert_problem
from studyhall.console.models import RosterImport
from studyhall.console.services.roster import HEADER, check_roster
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import (
    Course,
    Member,
    Organization,
    Program,
    Role,
    TutorCourse,
    TutorRate,
)
from studyhall.testing import factories as f

ApiAs = Callable[[User | None], Api]
ENDPOINTS = [
    (method, path)
    for path, view in router.path_operations.items()
    for operation in view.operations
    for method in operation.methods
]
ROSTER = (",".join(HEADER) + "\nS-1,nia@college.test,Nia,student,,,\n").encode()


@pytest.fixture
def world(cast: Cast) -> dict[str, Any]:
    other_admin = f.add_member(cast.other_org, f.make_user(email="oa@example.test"), Role.ADMIN)
    other_course = f.make_course(cast.other_org, code="BIO 1")
    with transaction.atomic():
        mine = check_roster(
            organization_id=cast.org.pk, actor=cast.admin, filename="r.csv", data=ROSTER
        )
        theirs = check_roster(
            organization_id=cast.other_org.pk, actor=other_admin, filename="r.csv", data=ROSTER
        )
    return {
        "other_admin": other_admin,
        "ids": {
            "org_id": cast.org.pk,
            "user_id": cast.tutor.pk,
            "course_id": cast.course.pk,
            "tutor_id": cast.tutor.pk,
            "import_id": mine.pk,
            "program_id": Program.objects.get(organization=cast.org, is_default=True).pk,
            "session_id": f.make_session(
                org=cast.org, tutor=cast.tutor, students=[cast.student]
            ).pk,
        },
        "other_ids": {
            "org_id": cast.other_org.pk,
            "user_id": cast.outsider.pk,
            "course_id": other_course.pk,
            "tutor_id": cast.outsider.pk,
            "import_id": theirs.pk,
            "program_id": Program.objects.get(organization=cast.other_org, is_default=True).pk,
            "session_id": f.make_session(
                org=cast.other_org, tutor=cast.outsider, students=[], course=other_course
            ).pk,
        },
    }


def _path(template: str, ids: dict[str, int]) -> str:
    names = re.findall(r"{(?:\w+:)?(\w+)}", template)
    missing = [n for n in names if n not in ids]
    assert not missing, f"Give the access matrix an id for {missing} ({template})"

    def value(match: re.Match[str]) -> str:
        return str(ids[match.group(1)])

    return "/admin" + re.sub(r"{(?:\w+:)?(\w+)}", value, template)


def _call(api: Api, method: str, path: str) -> Any:
    if method == "GET":
        return api.get(path)
    return api.client.generic(
        method, "/api/v1" + path, "{}", content_type="application/json", headers=api._headers(None)
    )


def test_the_matrix_walks_every_admin_endpoint() -> None:
    assert len(ENDPOINTS) == 30


@pytest.mark.parametrize(("method", "template"), ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
def test_admin_endpoint_access(
    cast: Cast, world: dict[str, Any], api_as: ApiAs, method: str, template: str
) -> None:
    path = _path(template, world["ids"])
    assert_problem(_call(api_as(world["other_admin"]), method, path), 404, "not_found")
    for member in (cast.tutor, cast.student, cast.agent):
        assert_problem(_call(api_as(member), method, path), 403, "forbidden")
    response = _call(api_as(cast.admin), method, path)
    if method == "GET":
        assert response.status_code == 200, response.content
    else:
        # Empty bodies: the admin gets past the access check to the input's own answer.
        assert response.status_code not in (401, 403, 404, 500), response.content
    # Another organization's object inside the admin's own organization's URL: 404.
    for name in set(re.findall(r"{(?:\w+:)?(\w+)}", template)) - {"org_id"}:
        ids = {**world["ids"], name: world["other_ids"][name]}
        response = _call(api_as(cast.admin), method, _path(template, ids))
        assert response.status_code in (404, 422, 400), (name, response.content)
        if method == "GET":
            assert response.status_code == 404


def test_rate_outside_the_bounds_is_refused(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    path = f"/admin/orgs/{cast.org.pk}/people/{cast.tutor.pk}/rate"
    response = api.client.put(
        "/api/v1" + path,
        '{"hourly_rate_cents": 80000}',
        content_type="application/json",
        headers=api._headers(None),
    )
    body = assert_problem(response, 422, "rate_out_of_bounds")
    assert body["detail"] == (
        "The hourly rate must be between $1.00 and $100.00 (the organization's policy); "
        "$800.00 is outside."
    )
    assert TutorRate.objects.count() == 0
    assert AuditEntry.objects.filter(action__startswith="person.").count() == 0


def test_policy_patch_validates_and_applies(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    path = f"/api/v1/admin/orgs/{cast.org.pk}/policy"

    def patch(body: str) -> Any:
        return api.client.patch(
            path, body, content_type="application/json", headers=api._headers(None)
        )

    body = assert_problem(patch('{"max_group_size": 51}'), 400, "invalid_policy")
    assert body["detail"] == "Group size must be between 1 and 50 students."
    assert Organization.objects.get(pk=cast.org.pk).max_group_size == 6
    response = patch('{"max_group_size": 4, "signup_email_domains": ["College.EDU"]}')
    assert response.status_code == 200
    assert (response.json()["max_group_size"], response.json()["signup_email_domains"]) == (
        4,
        ["college.edu"],
    )


def test_roster_upload_and_apply(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    url = f"/api/v1/admin/orgs/{cast.org.pk}/roster"
    response = api.client.post(
        url, {"file": SimpleUploadedFile("r.csv", ROSTER)}, headers=api._headers(None)
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["summary"]["to_add"]) == ("checked", 1)
    applied = api.post(f"/admin/orgs/{cast.org.pk}/roster/{body['id']}/apply")
    assert applied.json()["status"] == "applied"
    assert User.objects.filter(email="nia@college.test").count() == 1


def test_roster_with_a_wrong_header_is_a_problem(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    response = api.client.post(
        f"/api/v1/admin/orgs/{cast.org.pk}/roster",
        {"file": SimpleUploadedFile("r.csv", b"id,mail\n1,a@b.test\n")},
        headers=api._headers(None),
    )
    assert response["Content-Type"] == PROBLEM
    assert assert_problem(response, 400, "roster_bad_header")
    assert RosterImport.objects.count() == 0


def _send(api: Api, method: str, path: str, body: dict[str, Any]) -> Any:
    return api.client.generic(
        method,
        "/api/v1" + path,
        json.dumps(body),
        content_type="application/json",
        headers=api._headers(None),
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        (
            "POST",
            "/people",
            {"email": "new@college.test", "roles": ["student"], "name": "Ne\u0000w"},
            "Name contains an invisible control character; remove it and try again.",
        ),
        (
            "POST",
            "/people",
            {"email": "new@college.test", "roles": ["student"], "school_id": "S\u0000"},
            "School ID contains an invisible control character; remove it and try again.",
        ),
        (
            "PUT",
            "/people/{tutor}/employee-id",
            {"employee_id": "E-1\u0000"},
            "Employee id contains an invisible control character; remove it and try again.",
        ),
        (
            "POST",
            "/courses",
            {"code": "BIO\u0000 1", "title": "Biology"},
            "Course code contains an invisible control character; remove it and try again.",
        ),
        (
            "POST",
            "/courses",
            {"code": "BIO 1", "title": "Bio\u001blogy"},
            "Course title contains an invisible control character; remove it and try again.",
        ),
        (
            "PUT",
            "/courses/{course}/tutors/{student}",
            {"status": "disabled", "reason": "no\u0000"},
            "Reason contains an invisible control character; remove it and try again.",
        ),
    ],
)
def test_a_control_character_in_admin_text_is_400_and_writes_nothing(
    cast: Cast, api_as: ApiAs, method: str, path: str, body: dict[str, Any], detail: str
) -> None:
    f.add_member(cast.org, cast.student, Role.TUTOR)
    api = api_as(cast.admin)
    url = f"/admin/orgs/{cast.org.pk}" + path.format(
        tutor=cast.tutor.pk, student=cast.student.pk, course=cast.course.pk
    )
    before = (
        User.objects.count(),
        Member.objects.count(),
        Course.objects.count(),
        TutorCourse.objects.count(),
        list(TutorCourse.objects.values_list("status", "decision_reason")),
    )
    audited = list(AuditEntry.objects.values_list("action", flat=True))

    problem = assert_problem(_send(api, method, url, body), 400, "invalid_input")

    assert problem["detail"] == detail
    assert (
        User.objects.count(),
        Member.objects.count(),
        Course.objects.count(),
        TutorCourse.objects.count(),
        list(TutorCourse.objects.values_list("status", "decision_reason")),
    ) == before
    assert list(AuditEntry.objects.values_list("action", flat=True)) == audited


@pytest.mark.postgres
def test_a_roster_with_a_nul_is_a_problem_and_stores_nothing(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    data = (",".join(HEADER) + "\nS-1,nia@college.test,Ni\x00a,student,,,\n").encode()
    response = api.client.post(
        f"/api/v1/admin/orgs/{cast.org.pk}/roster",
        {"file": SimpleUploadedFile("r.csv", data)},
        headers=api._headers(None),
    )
    body = assert_problem(response, 400, "roster_control_character")
    assert body["detail"] == (
        "Line 2 has an invisible control character (U+0000); remove it and upload the file again."
    )
    assert RosterImport.objects.count() == 0
    assert User.objects.filter(email="nia@college.test").count() == 0


def test_a_roster_over_10_mb_is_refused_before_it_is_read(cast: Cast, api_as: ApiAs) -> None:
    api = api_as(cast.admin)
    big = (",".join(HEADER) + "\n").encode() + b"x" * (10 * 1024 * 1024)
    response = api.client.post(
        f"/api/v1/admin/orgs/{cast.org.pk}/roster",
        {"file": SimpleUploadedFile("big.csv", big)},
        headers=api._headers(None),
    )
    body = assert_problem(response, 400, "roster_too_large")
    assert body["detail"] == (
        "The file is 10.0 MB; a roster file may be at most 10 MB. Split it into smaller files."
    )
    assert RosterImport.objects.count() == 0
