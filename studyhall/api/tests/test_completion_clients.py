"""Completing a session has three clients: the Complete Session page, the API and the
classroom's "Log time & leave call" pop-up. Each reads its input at the edge and calls the one
completion service, and a refusal looks the same in each: the same status, code and words, and
the same fields marked."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.api.tests.support import PROBLEM, Api
from studyhall.ledger.models import Transfer
from studyhall.testing import factories as f
from studyhall.tutoring.models import Completion, Mode, Session
from studyhall.tutoring.services import completion

SHORT = {"topics_covered": "Limits.", "tutee_progress": "Fine.", "next_steps": "More."}
CASES: dict[str, tuple[dict[str, Any], str, int, list[str]]] = {
    "a time off the list": ({"minutes": 95}, "invalid_duration", 422, ["minutes"]),
    "an empty prompt": (
        {"recap": {**f.GOOD_RECAP, "next_steps": "  "}},
        "recap_incomplete",
        422,
        ["next_steps"],
    ),
    "a short recap": ({"recap": SHORT}, "recap_too_short", 422, []),
    "a control character": (
        {"recap": {**f.GOOD_RECAP, "tutee_progress": "Fine\x07."}},
        "invalid_input",
        400,
        ["tutee_progress"],
    ),
    # Online with nothing measured in the classroom: the tutor confirms the time first.
    "nothing measured": ({}, "confirm_unmeasured", 422, ["confirm_time"]),
}
MARKED = re.compile(r'<(?:select|textarea|input)[^>]*name="(\w+)"[^>]*aria-invalid="true"')


@pytest.fixture
def online(cast: Cast) -> Session:
    """Online, began an hour ago, nobody in the call: ready to complete from anywhere."""
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() - timedelta(hours=1),
        mode=Mode.ONLINE,
    )


@pytest.fixture
def service_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What reached the completion service, from whichever client (it runs as it is)."""
    calls: list[dict[str, Any]] = []
    real = completion._complete

    def recorded(**kwargs: Any) -> completion.CompletionResult:
        calls.append({k: kwargs[k] for k in ("minutes", "recap", "ending_call")})
        return real(**kwargs)

    monkeypatch.setattr(completion, "_complete", recorded)
    return calls


def _form(body: dict[str, Any]) -> dict[str, str]:
    answers = body.get("recap", f.GOOD_RECAP)
    return {"minutes": str(body.get("minutes", 55)), **answers, "idempotency_key": "k-1"}


@pytest.mark.parametrize("case", CASES)
def test_a_refusal_is_the_same_from_the_page_the_api_and_the_classroom(
    cast: Cast,
    online: Session,
    api_as: Callable[[User | None], Api],
    service_calls: list[dict[str, Any]],
    case: str,
) -> None:
    change, code, status, fields = CASES[case]
    body: dict[str, Any] = {"minutes": 55, "recap": f.GOOD_RECAP} | change
    browser = Client()
    browser.force_login(cast.tutor)

    page = browser.post(reverse("tutoring:complete", args=[online.pk]), _form(body))
    api = api_as(cast.tutor).post(f"/sessions/{online.pk}/complete", body)
    classroom = browser.post(reverse("calls:complete", args=[online.pk]), _form(body))

    assert (page.status_code, api.status_code, classroom.status_code) == (status,) * 3
    assert api["Content-Type"] == classroom["Content-Type"] == PROBLEM
    from_api, from_classroom = api.json(), classroom.json()
    assert from_api["code"] == code
    # The classroom's problem is the API's, plus the form fields its script marks.
    assert from_classroom == from_api | {"fields": fields}
    html = page.content.decode()
    assert from_api["detail"] in html
    assert MARKED.findall(html) == fields

    # One service, called the same way three times; the classroom's call also ends the call.
    minutes, recap = body["minutes"], {**body["recap"]}
    assert service_calls == [
        {"minutes": minutes, "recap": recap, "ending_call": False},
        {"minutes": minutes, "recap": recap, "ending_call": False},
        {"minutes": minutes, "recap": recap, "ending_call": True},
    ]
    assert not Completion.objects.exists() and not Transfer.objects.exists()
