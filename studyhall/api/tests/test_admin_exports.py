"""/api/v1/admin/orgs/{org_id}/exports: the org admin's CSV exports through the API."""

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
    listing = api.get(f"/admin/orgs/{cast.org.pk}/exports")
    assert listing.status_code == 200
    exports = listing.json()
    assert [e["filename"] for e in exports] == [
        "sessions.csv",
        "users.csv",
        "tutor_requests.csv",
        "recaps.csv",
        "transactions.csv",
        "payouts.csv",
    ]
    assert exports[0]["url"] == f"/api/v1/admin/orgs/{cast.org.pk}/exports/sessions.csv"
    assert exports[0]["columns"] == list(SESSION_COLUMNS)

    response = api.get(f"/admin/orgs/{cast.org.pk}/exports/sessions.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == list(SESSION_COLUMNS)
    assert [r[0] for r in rows[1:]] == [str(session.pk)]


def test_refusals_are_problems(cast: Cast, api_as: Callable[[User], Api]) -> None:
    assert_problem(
        api_as(cast.admin).get(f"/admin/orgs/{cast.org.pk}/exports/grades.csv"),
        404,
        "unknown_export",
    )
    assert_problem(
        api_as(cast.tutor).get(f"/admin/orgs/{cast.org.pk}/exports/users.csv"), 403, "forbidden"
    )
    assert_problem(
        api_as(cast.outsider).get(f"/admin/orgs/{cast.org.pk}/exports/users.csv"), 404, "not_found"
    )
