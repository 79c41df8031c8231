"""The notification list, the header's unread count, and marking read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from studyhall.notifications import services
from studyhall.notifications.models import Kind, Notification
from studyhall.testing import factories as f

if TYPE_CHECKING:
    from conftest import Cast

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def notify(user: Any, title: str, *, link: str = "", session_id: int | None = None) -> Notification:
    (row,) = services.record(
        [services.Message(user=user, title=title, subject="", template="")],
        kind=Kind.INVITATION,
        event="invited",
        link=link,
        session_id=session_id,
    )
    return row


def html(response: Any) -> str:
    assert response.status_code == 200
    return response.content.decode()


def header(page: str) -> str:
    return page[page.index("<header") : page.index("</header>")]


def test_the_header_shows_the_unread_count(client: Client, cast: Cast) -> None:
    client.force_login(cast.student)
    page = header(html(client.get(reverse("tutoring:sessions"))))
    assert f'href="{reverse("notifications:list")}">Notifications</a>' in page
    notify(cast.student, "One")
    notify(cast.student, "Two")
    page = header(html(client.get(reverse("tutoring:sessions"))))
    assert (
        'Notifications <span class="site-notices__count">2<span class="visually-hidden"> '
        "unread</span></span></a>"
    ) in page
    assert f'href="{reverse("settings:page")}"' in page


def test_the_list_shows_newest_first_with_session_times_in_the_viewers_zone(
    client: Client, cast: Cast
) -> None:
    cast.student.time_zone = "America/New_York"
    cast.student.save()
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student],
        start=datetime(2026, 11, 18, 20, 0, tzinfo=UTC),
    )  # fmt: skip
    notify(cast.student, "Older news")
    with time_machine.travel(NOW.replace(minute=5), tick=False):
        notify(cast.student, "Tess Tutor invited you.", link="/sessions/1/", session_id=session.pk)
    notify(cast.student2, "Not for Maya")
    client.force_login(cast.student)
    page = html(client.get(reverse("notifications:list")))
    assert page.index("Tess Tutor invited you.") < page.index("Older news")
    assert "Not for Maya" not in page
    assert "CHEM 110 session of" in page and "Wed, Nov 18, 3:00 PM EST" in page
    assert "Mon, Nov 16, 10:05 AM EST" in page
    assert "Times are in your time zone, America/New_York." in page
    assert page.count("notice--unread") == 2


def test_opening_one_marks_it_read_and_goes_to_its_page(client: Client, cast: Cast) -> None:
    notice = notify(cast.student, "Open me", link="/sessions/7/")
    client.force_login(cast.student)
    response = client.post(reverse("notifications:open", args=[notice.pk]))
    assert response.status_code == 302 and response["Location"] == "/sessions/7/"
    notice.refresh_from_db()
    assert notice.read_at == NOW
    cast.student.refresh_from_db()
    assert cast.student.unread_notifications == 0
    # Marking without leaving the list.
    other = notify(cast.student, "Stay here", link="/sessions/8/")
    response = client.post(
        reverse("notifications:open", args=[other.pk]), {"stay": "1", "next": "/notifications/"}
    )
    assert response["Location"] == "/notifications/"


def test_another_persons_notification_cannot_be_opened(client: Client, cast: Cast) -> None:
    notice = notify(cast.student, "Mine")
    client.force_login(cast.student2)
    assert client.post(reverse("notifications:open", args=[notice.pk])).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_mark_all_read_and_the_unread_filter(client: Client, cast: Cast) -> None:
    for title in ("A", "B", "C"):
        notify(cast.student, title)
    client.force_login(cast.student)
    assert "Unread (3)" in html(client.get(reverse("notifications:list") + "?show=unread"))
    response = client.post(reverse("notifications:read_all"), {"next": "https://evil.test/"})
    assert response["Location"] == reverse("notifications:list")
    page = html(client.get(reverse("notifications:list") + "?show=unread"))
    assert "Nothing unread." in page and "Mark all as read" not in page
    assert "site-notices__count" not in header(page)
    assert client.get(reverse("notifications:read_all")).status_code == 405


@pytest.mark.parametrize(
    "target",
    ["notifications:list", "no-slash", "javascript:alert(1)", "//evil.test/x", "/x\x00y", ""],
)
def test_read_all_goes_back_only_to_a_path_on_this_site(
    client: Client, cast: Cast, target: str
) -> None:
    notify(cast.student, "One")
    client.force_login(cast.student)
    response = client.post(reverse("notifications:read_all"), {"next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:list")
    assert Notification.objects.filter(user=cast.student, read_at__isnull=True).count() == 0
    back = client.post(reverse("notifications:read_all"), {"next": "/sessions/?tab=past"})
    assert back["Location"] == "/sessions/?tab=past"


def test_the_list_needs_sign_in(client: Client, db: None) -> None:
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_costs_a_fixed_number_of_queries(
    client: Client, cast: Cast, django_assert_num_queries: Any
) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    client.force_login(cast.student)
    notify(cast.student, "one", session_id=session.pk)
    with django_assert_num_queries(5) as captured:
        client.get(reverse("notifications:list"))
    for i in range(5):
        notify(cast.student, f"more {i}", session_id=session.pk)
    with django_assert_num_queries(len(captured)):
        client.get(reverse("notifications:list"))
