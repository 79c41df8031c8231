"""/api/v1/admin/exports: the org admin's CSV exports through the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.feeds.exports import SESSION_COLUMNS
from studyhall.testing import factories as f

if TYPE_CHECKING:
    from conftest import Cast


def test_admin_lists_and_downloads_exports(cast: Cast, api_as: Callable[[User], Api]) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    api = api_as(cast.admin)
    listing = api.get("/admin/exports/")
    assert listing.status_code == 200
    [org] = listing.json()
    assert (org["organization_id"], org["organization"]) == (cast.org.pk, "Test College")
    assert [e["filename"] for e in org["exports"]] == [
        "sessions.csv",
        "users.csv",
        "tutor_requests.csv",
        "recaps.csv",
        "transactions.csv",
        "payouts.csv",
    ]
    assert org["exports"][0]["url"] == f"/api/v1/admin/exports/{cast.org.pk}/sessions.csv"

    response = api.get(f"/admin/exports/{cast.org.pk}/sessions.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == list(SESSION_COLUMNS)
    assert [r[0] for r in rows[1:]] == [str(session.pk)]


def test_refusals_are_problems(cast: Cast, api_as: Callable[[User], Api]) -> None:
    assert_problem(
        api_as(cast.admin).get(f"/admin/exports/{cast.org.pk}/grades.csv"), 404, "unknown_export"
    )
    assert_problem(
        api_as(cast.tutor).get(f"/admin/exports/{cast.org.pk}/users.csv"), 403, "forbidden"
    )
    assert_problem(
        api_as(cast.outsider).get(f"/admin/exports/{cast.org.pk}/users.csv"), 404, "not_found"
    )
    assert api_as(cast.tutor).get("/admin/exports/").json() == []
