"""The caller's notifications through the API: list (all or unread), mark one or all read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine

from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.notifications import services
from studyhall.notifications.models import Kind, Notification

if TYPE_CHECKING:
    from conftest import Cast

ApiAs = Callable[[User | None], Api]
NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def notify(user: User, title: str, *, minutes_later: int = 0) -> Notification:
    with time_machine.travel(NOW + timedelta(minutes=minutes_later), tick=False):
        (row,) = services.record(
            [services.Message(user=user, title=title, subject="", template="")],
            kind=Kind.REMINDER,
            event="before_1h",
            link="/sessions/3/",
        )
    return row


def test_the_list_is_newest_first_with_the_unread_count(cast: Cast, api_as: ApiAs) -> None:
    old = notify(cast.student, "Older")
    new = notify(cast.student, "Newer", minutes_later=5)
    notify(cast.student2, "Not yours")
    response = api_as(cast.student).get("/notifications")
    assert response.status_code == 200
    body = response.json()
    assert body["unread_count"] == 2
    assert [n["id"] for n in body["notifications"]] == [new.pk, old.pk]
    assert body["notifications"][0] == {
        "id": new.pk,
        "kind": "reminder",
        "event": "before_1h",
        "title": "Newer",
        "link": "/sessions/3/",
        "session_id": None,
        "created_at": "2026-11-16T15:05:00Z",
        "read_at": None,
        "unread": True,
    }
    assert (body["limit"], body["offset"], body["next_offset"]) == (50, 0, None)


def test_unread_filter_and_paging(cast: Cast, api_as: ApiAs) -> None:
    rows = [notify(cast.student, f"n{i}", minutes_later=i) for i in range(3)]
    services.mark_read(actor=cast.student, notification_id=rows[2].pk)
    api = api_as(cast.student)
    body = api.get("/notifications", unread="true", limit=1).json()
    assert [n["title"] for n in body["notifications"]] == ["n1"]
    assert body["next_offset"] == 1 and body["unread_count"] == 2
    body = api.get("/notifications", unread="true", limit=1, offset=1).json()
    assert [n["title"] for n in body["notifications"]] == ["n0"] and body["next_offset"] is None


def test_mark_one_read_twice_is_harmless(cast: Cast, api_as: ApiAs) -> None:
    row = notify(cast.student, "Read me")
    api = api_as(cast.student)
    for _ in range(2):
        response = api.post(f"/notifications/{row.pk}/read")
        assert response.status_code == 200
        assert response.json()["read_at"] == "2026-11-16T15:00:00Z"
        assert response.json()["unread"] is False
    cast.student.refresh_from_db()
    assert cast.student.unread_notifications == 0


def test_someone_elses_notification_is_404(cast: Cast, api_as: ApiAs) -> None:
    row = notify(cast.student, "Mine")
    assert_problem(api_as(cast.student2).post(f"/notifications/{row.pk}/read"), 404, "not_found")
    assert_problem(api_as(cast.student2).post("/notifications/999999/read"), 404, "not_found")
    row.refresh_from_db()
    assert row.read_at is None


def test_mark_all_read(cast: Cast, api_as: ApiAs) -> None:
    for i in range(3):
        notify(cast.student, f"n{i}")
    notify(cast.student2, "other")
    api = api_as(cast.student)
    assert api.post("/notifications/read-all").json() == {"marked_read": 3, "unread_count": 0}
    assert api.post("/notifications/read-all").json() == {"marked_read": 0, "unread_count": 0}
    assert api.get("/notifications", unread="true").json()["notifications"] == []
    assert Notification.objects.filter(user=cast.student2, read_at__isnull=True).count() == 1


def test_bad_input_and_no_credentials(cast: Cast, api_as: ApiAs) -> None:
    assert_problem(api_as(None).get("/notifications"), 401, "not_authenticated")
    assert_problem(api_as(None).post("/notifications/read-all"), 401, "not_authenticated")
    assert_problem(api_as(cast.student).get("/notifications", limit=0), 422, "validation_error")
    assert_problem(
        api_as(cast.student).get("/notifications", unread="maybe"), 422, "validation_error"
    )
    response = api_as(cast.student).post("/notifications/abc/read")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
