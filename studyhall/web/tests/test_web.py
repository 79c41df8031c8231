"""The shared page plumbing: lenient parameters, a refusal put onto a form, the
post/redirect/get runner and refusals shown as pages."""

from __future__ import annotations

from datetime import date

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from studyhall.web.actions import act_and_redirect
from studyhall.web.form_errors import put_refusal_on_form
from studyhall.web.params import date_param, int_param
from studyhall.web.refusals import refusals_as_pages
from studyhall.web.viewer import HtmxRequest


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        ("0", 0),
        ("9" * 18, 10**18 - 1),
        ("9" * 19, None),
        ("", None),
        (None, None),
        ("-3", None),
        ("4.5", None),
        (" 7", None),
        ("٣", None),  # a digit, but not an ASCII one
    ],
)
def test_int_param_reads_only_plain_whole_numbers(raw: str | None, expected: int | None) -> None:
    assert int_param(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-09", date(2026, 3, 9)),
        ("2026-02-30", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_date_param_reads_iso_days(raw: str | None, expected: date | None) -> None:
    assert date_param(raw) == expected


class _Form(forms.Form):
    minutes = forms.CharField(label="Time spent")
    topics = forms.CharField(label="What did you cover?")
    reason = forms.CharField(label="Reason")


def _bound() -> _Form:
    form = _Form({"minutes": "55", "topics": "x", "reason": "y"})
    assert form.is_valid()
    return form


def test_a_mapped_code_marks_its_field_with_its_hint() -> None:
    form = _bound()
    refusal = InvalidInput("Choose a listed time.", code="invalid_duration")
    put_refusal_on_form(form, refusal, by_code={"invalid_duration": ("minutes", "Pick one.")})
    assert form.errors == {"minutes": ["Pick one."]}


def test_missing_answers_are_each_marked() -> None:
    form = _bound()
    refusal = InvalidInput("Answer all.", code="recap_incomplete", missing=["topics", "reason"])
    put_refusal_on_form(form, refusal, by_code={})
    assert form.errors == {"topics": ["Answer this prompt."], "reason": ["Answer this prompt."]}


def test_a_named_field_is_found_by_key_or_label_and_overrides_win() -> None:
    by_label = _bound()
    put_refusal_on_form(
        by_label, InvalidInput("Too long.", field="What did you cover?"), by_code={}
    )
    assert by_label.errors == {"topics": ["Fix this answer."]}

    by_key = _bound()
    put_refusal_on_form(by_key, InvalidInput("Too long.", field="topics"), by_code={})
    assert by_key.errors == {"topics": ["Fix this answer."]}

    overridden = _bound()
    put_refusal_on_form(
        overridden,
        InvalidInput("Too long.", field="Reason"),
        by_code={},
        by_name={"Reason": ("reason", "Fix the reason.")},
    )
    assert overridden.errors == {"reason": ["Fix the reason."]}


def test_a_refusal_about_no_field_of_the_form_marks_nothing() -> None:
    form = _bound()
    put_refusal_on_form(form, Conflict("Already done."), by_code={"x": ("nowhere", "Hint.")})
    put_refusal_on_form(form, InvalidInput("Bad.", field="Elsewhere"), by_code={})
    put_refusal_on_form(form, Conflict("Done.", code="x"), by_code={"x": ("nowhere", "Hint.")})
    assert form.errors == {}


def _request(user: User) -> HtmxRequest:
    request = RequestFactory().post("/somewhere")
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request  # type: ignore[return-value]


def test_the_runner_says_how_it_went_and_redirects(cast: Cast) -> None:
    done = _request(cast.tutor)
    response = act_and_redirect(done, lambda viewer: f"Done for {viewer.email}.", to="/back")
    assert (response.status_code, response["Location"]) == (302, "/back")
    assert [(m.level_tag, str(m)) for m in get_messages(done)] == [
        ("success", "Done for tutor@example.test.")
    ]

    def refuse(viewer: User) -> str:
        raise Conflict("The session is already canceled.")

    refused = _request(cast.tutor)
    response = act_and_redirect(refused, refuse, to="/back")
    assert (response.status_code, response["Location"]) == (302, "/back")
    assert [(m.level_tag, str(m)) for m in get_messages(refused)] == [
        ("error", "The session is already canceled.")
    ]


@pytest.mark.parametrize("refusal", [NotFound("No such session."), Forbidden("Not yours.")])
def test_the_runner_lets_not_found_and_forbidden_through(cast: Cast, refusal: DomainError) -> None:
    def refuse(viewer: User) -> str:
        raise refusal

    with pytest.raises(type(refusal)):
        act_and_redirect(_request(cast.tutor), refuse, to="/back")


def test_refusals_become_404_and_a_403_page(cast: Cast) -> None:
    @refusals_as_pages
    def view(request: HtmxRequest, what: str) -> HttpResponse:
        if what == "missing":
            raise NotFound("No such session.")
        raise Forbidden("Only the session's tutor can complete it.")

    with pytest.raises(Http404):
        view(_request(cast.tutor), "missing")
    page = view(_request(cast.tutor), "forbidden")
    assert page.status_code == 403
    assert "Only the session&#x27;s tutor can complete it." in page.content.decode()
