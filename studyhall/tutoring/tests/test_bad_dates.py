"""Dates at the calendar's ends (year 1, year 9999) in every date field of booking, on the
pages and in the API: each gets a clear message, never a server error, and nothing is written.

The fields are read from the booking forms and the API's input schemas, so a date field added
later is covered without touching this file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django import forms
from django.test import Client
from django.urls import reverse
from pydantic import BaseModel

from studyhall.accounts.tokens import issue_token
from studyhall.api import schemas
from studyhall.api.tests.support import Api, assert_problem
from studyhall.testing import factories as f
from studyhall.tutoring.booking_forms import InviteForm, ProposeForm, RequestForm
from studyhall.tutoring.models import Session, TimeProposal

if TYPE_CHECKING:
    from conftest import Cast
    from studyhall.accounts.models import User

NOW = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
FAR = {"year 9999": date(9999, 12, 31), "year 1": date(1, 1, 1)}
# Every message a far date may get, by where it is caught: the form (a date that cannot be put
# on the organization's clock), the booking rules, or the allowance.
CLEAR = re.compile(
    r"Choose a date within a year of today|at most a year ahead|"
    r"at most \d+ hours after it started|more than a year ago"
)
REQUEST = {"time": "16:00", "minutes": "60", "mode": "online", "location": "", "notes": ""}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def date_fields(form: type[forms.Form]) -> list[str]:
    return [
        name
        for name, field in form.base_fields.items()
        if isinstance(field, forms.DateField | forms.DateTimeField | forms.SplitDateTimeField)
    ]


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _page_posts(cast: Cast) -> dict[type[forms.Form], tuple[User, str, dict[str, Any]]]:
    """Each booking form: who fills it in, where it is posted, and a valid body."""
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=datetime(2025, 3, 5, 20, 0, tzinfo=UTC),
    )
    return {
        RequestForm: (
            cast.student,
            reverse("tutoring:book_request"),
            {"course": cast.course.pk, "tutor": cast.tutor.pk, **REQUEST},
        ),
        InviteForm: (
            cast.tutor,
            reverse("tutoring:book_invite"),
            {"course": cast.course.pk, "students": [cast.student.pk], **REQUEST},
        ),
        ProposeForm: (
            cast.tutor,
            reverse("tutoring:propose", args=[session.pk]),
            {"time": "17:30", "minutes": "45", "message": ""},
        ),
    }


BOOKING_FORMS: list[type[forms.Form]] = [RequestForm, InviteForm, ProposeForm]
PAGE_CASES = [
    (form, name, label) for form in BOOKING_FORMS for name in date_fields(form) for label in FAR
]


def test_every_booking_form_has_a_date_field() -> None:
    assert {form.__name__: date_fields(form) for form in BOOKING_FORMS} == {
        "RequestForm": ["date"],
        "InviteForm": ["date"],
        "ProposeForm": ["date"],
    }


@pytest.mark.parametrize(
    ("form", "field", "label"),
    PAGE_CASES,
    ids=[f"{form.__name__}.{name}-{label}" for form, name, label in PAGE_CASES],
)
def test_a_far_date_on_a_booking_page_gets_a_clear_message(
    client: Client, cast: Cast, form: type[forms.Form], field: str, label: str
) -> None:
    who, url, body = _page_posts(cast)[form]
    sessions_before = Session.objects.count()
    client.force_login(who)
    response = client.post(url, {**body, field: FAR[label].isoformat()})
    assert response.status_code in (400, 422), response.status_code
    assert CLEAR.search(text_of(response)), text_of(response)
    assert Session.objects.count() == sessions_before
    assert not TimeProposal.objects.exists()


@pytest.mark.parametrize("label", list(FAR))
def test_a_far_date_in_the_allowance_box_gets_a_clear_message(
    client: Client, cast: Cast, label: str
) -> None:
    client.force_login(cast.student)
    response = client.get(
        reverse("tutoring:book_allowance"),
        {
            "course": str(cast.course.pk),
            "tutor": str(cast.tutor.pk),
            "date": FAR[label].isoformat(),
            "time": "16:00",
            "minutes": "60",
        },
    )
    assert response.status_code == 200
    assert CLEAR.search(text_of(response)), text_of(response)


# -- the API: every datetime field of the booking schemas, and the allowance ----------------

FAR_MOMENTS = {
    "year 9999": "9999-12-31T23:30:00+00:00",
    "year 1": "0001-01-01T00:30:00+00:00",
}


def api_as(user: User) -> Api:
    return Api(token=issue_token(request=None, email=user.email, password=f.PASSWORD))


def datetime_fields(schema: type[BaseModel]) -> list[str]:
    return [name for name, info in schema.model_fields.items() if info.annotation is datetime]


def _api_posts(cast: Cast) -> dict[type[BaseModel], tuple[User, str, dict[str, Any]]]:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=datetime(2025, 3, 5, 20, 0, tzinfo=UTC),
    )
    common = {"organization_id": cast.org.pk, "course_id": cast.course.pk, "mode": "online"}
    return {
        schemas.SessionIn: (
            cast.student,
            "/sessions",
            {**common, "tutor_id": cast.tutor.pk, "planned_minutes": 60},
        ),
        schemas.RequestIn: (
            cast.student,
            "/sessions/request",
            {**common, "tutor_id": cast.tutor.pk, "planned_minutes": 60},
        ),
        schemas.InviteIn: (
            cast.tutor,
            "/sessions/invite",
            {**common, "student_ids": [cast.student.pk], "planned_minutes": 60},
        ),
        schemas.ProposeTimeIn: (cast.tutor, f"/sessions/{session.pk}/propose-time", {}),
    }


API_SCHEMAS: list[type[BaseModel]] = [
    schemas.SessionIn,
    schemas.RequestIn,
    schemas.InviteIn,
    schemas.ProposeTimeIn,
]
API_CASES = [
    (schema, name, label)
    for schema in API_SCHEMAS
    for name in datetime_fields(schema)
    for label in FAR_MOMENTS
]


@pytest.mark.parametrize(
    ("schema", "field", "label"),
    API_CASES,
    ids=[f"{schema.__name__}.{name}-{label}" for schema, name, label in API_CASES],
)
def test_a_far_date_in_the_api_gets_a_clear_problem(
    cast: Cast,
    schema: type[BaseModel],
    field: str,
    label: str,
) -> None:
    who, path, body = _api_posts(cast)[schema]
    sessions_before = Session.objects.count()
    response = api_as(who).post(path, {**body, field: FAR_MOMENTS[label]})
    assert response.status_code == 422, response.content
    problem = response.json()
    assert problem["code"] in {
        "start_too_far_ahead",
        "start_too_far_in_past",
        "start_in_past",
    }, problem
    assert Session.objects.count() == sessions_before
    assert not TimeProposal.objects.exists()


@pytest.mark.parametrize(
    ("label", "code"),
    [("year 9999", "start_too_far_ahead"), ("year 1", "start_too_far_in_past")],
)
def test_a_far_date_in_the_allowance_api_gets_a_clear_problem(
    cast: Cast, label: str, code: str
) -> None:
    response = api_as(cast.student).get(
        "/sessions/booking/allowance",
        course_id=cast.course.pk,
        tutor_id=cast.tutor.pk,
        start=FAR_MOMENTS[label],
    )
    body = assert_problem(response, 422, code)
    assert body["field"] == "start"
