"""The API of confirmations: a student confirms or disputes a completed session, and Support
upholds a dispute; refusals are problem+json with stable codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.support.tests.test_disputes import completed

ApiAs = Callable[[User | None], Api]
START = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def frozen() -> object:
    with time_machine.travel(START + timedelta(hours=2), tick=False) as traveller:
        yield traveller


def test_the_api_confirms_disputes_and_upholds(cast: Cast, api_as: ApiAs, frozen: object) -> None:
    session = completed(cast)
    body = api_as(cast.student).post(f"/sessions/{session.pk}/confirm").json()
    assert (body["answer"], body["earning_state"]) == ("confirmed", "pending")
    student2 = api_as(cast.student2)
    assert_problem(
        student2.post(
            f"/sessions/{session.pk}/dispute", {"kind": "shorter", "shorter_by_minutes": 60}
        ),
        400,
        "reason_required",
    )
    assert_problem(
        student2.post(
            f"/sessions/{session.pk}/dispute",
            {"kind": "shorter", "shorter_by_minutes": 60, "reason": "Short."},
        ),
        400,
        "invalid_shorter_by",
    )
    body = student2.post(
        f"/sessions/{session.pk}/dispute",
        {"kind": "shorter", "shorter_by_minutes": 20, "reason": "Short."},
    ).json()
    assert (body["answer"], body["shorter_by_minutes"], body["earning_state"]) == (
        "disputed",
        20,
        "disputed",
    )
    assert_problem(student2.post(f"/sessions/{session.pk}/confirm"), 409, "already_answered")
    assert_problem(
        api_as(cast.tutor).post(f"/sessions/{session.pk}/confirm"), 403, "not_a_student_who_came"
    )
    assert_problem(
        api_as(cast.admin).post(f"/sessions/{session.pk}/dispute/uphold", {}), 403, "forbidden"
    )
    body = api_as(cast.agent).post(f"/sessions/{session.pk}/dispute/uphold", {}).json()
    assert body == {"session_id": session.pk, "earning_state": "released", "resolution": "upheld"}
    assert_problem(
        api_as(cast.agent).post(f"/sessions/{session.pk}/dispute/uphold", {}),
        409,
        "no_open_dispute",
    )


def test_the_api_rates_and_hides(cast: Cast, api_as: ApiAs, frozen: object) -> None:
    session = completed(cast)
    maya = api_as(cast.student)
    assert_problem(maya.post(f"/sessions/{session.pk}/rating", {"stars": 4}), 409, "confirm_first")
    maya.post(f"/sessions/{session.pk}/confirm")
    assert_problem(maya.post(f"/sessions/{session.pk}/rating", {"stars": 9}), 400, "invalid_stars")
    response = maya.post(f"/sessions/{session.pk}/rating", {"stars": 2, "review": "Rushed."})
    assert response.status_code == 201
    body = response.json()
    assert {k: v for k, v in body.items() if k != "id"} == {
        "session_id": session.pk,
        "stars": 2,
        "review": "Rushed.",
        "by_tutor": False,
        "hidden": False,
    }
    hide = f"/sessions/ratings/{body['id']}/hide"
    assert_problem(api_as(cast.tutor).post(hide, {"reason": "No."}), 403, "admins_only")
    assert_problem(api_as(cast.admin).post(hide, {}), 400, "reason_required")
    assert api_as(cast.admin).post(hide, {"reason": "Reported."}).json()["hidden"] is True
