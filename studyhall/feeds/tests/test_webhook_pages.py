"""The console's Webhooks page: add an endpoint, rotate, pause, see deliveries, redeliver."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.db import transaction
from django.test import Client

from studyhall.feeds import webhooks
from studyhall.feeds.models import MessageStatus, WebhookEndpoint, WebhookMessage

if TYPE_CHECKING:
    from conftest import Cast


@pytest.fixture
def admin_client(cast: Cast, client: Client) -> Client:
    client.force_login(cast.admin)
    return client


def page_url(cast: Cast) -> str:
    return f"/console/{cast.org.pk}/webhooks/"


def test_an_admin_adds_an_endpoint(cast: Cast, admin_client: Client) -> None:
    response = admin_client.post(
        page_url(cast),
        {
            "url": "https://sis.example.edu/studyhall",
            "description": "Banner",
            "event_types": ["session.completed", "payout.paid"],
        },
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.description, endpoint.event_types) == (
        "https://sis.example.edu/studyhall",
        "Banner",
        ["payout.paid", "session.completed"],
    )
    page = admin_client.get(page_url(cast)).content.decode()
    assert "Added https://sis.example.edu/studyhall." in page
    assert f"<code>{endpoint.secret}</code>" in page


def test_a_bad_url_is_shown_on_the_form_and_nothing_is_saved(
    cast: Cast, admin_client: Client
) -> None:
    response = admin_client.post(
        page_url(cast), {"url": "http://sis.example.edu/x", "event_types": ["session.completed"]}
    )
    assert response.status_code == 400
    assert "starting with https://" in response.content.decode()
    response = admin_client.post(page_url(cast), {"url": "https://sis.example.edu/x"})
    assert response.status_code == 400
    assert "Choose at least one event to send." in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def add_endpoint(cast: Cast) -> WebhookEndpoint:
    with transaction.atomic():
        return webhooks.create_endpoint(
            actor=cast.admin,
            organization=cast.org,
            url="https://sis.example.edu/hooks",
            event_types=["session.completed"],
        )


def test_rotate_pause_and_redeliver(cast: Cast, admin_client: Client) -> None:
    endpoint = add_endpoint(cast)
    old = endpoint.secret
    admin_client.post(f"{page_url(cast)}{endpoint.pk}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.previous_secret == old

    admin_client.post(f"{page_url(cast)}{endpoint.pk}/active/", {"active": "0"})
    endpoint.refresh_from_db()
    assert endpoint.is_active is False

    message = WebhookMessage.objects.create(
        endpoint=endpoint,
        message_id="msg_1",
        event_type="session.completed",
        payload={"type": "session.completed"},
        status=MessageStatus.FAILED,
        attempt_count=8,
    )
    admin_client.post(f"{page_url(cast)}deliveries/{message.pk}/redeliver/")
    message.refresh_from_db()
    assert (message.status, message.attempt_count) == ("pending", 0)


def test_other_organizations_endpoints_are_not_found(cast: Cast, client: Client) -> None:
    endpoint = add_endpoint(cast)
    from studyhall.orgs.models import Role
    from studyhall.testing import factories as f

    other_admin = f.add_member(cast.other_org, f.make_user(), Role.ADMIN)
    client.force_login(other_admin)
    response = client.post(f"/console/{cast.other_org.pk}/webhooks/{endpoint.pk}/rotate/")
    assert response.status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == ""
    client.force_login(cast.tutor)
    assert client.get(page_url(cast)).status_code == 403


@pytest.mark.parametrize("count", [3, 30])
def test_the_deliveries_list_takes_the_same_queries_for_any_length(
    cast: Cast, admin_client: Client, django_assert_num_queries: Any, count: int
) -> None:
    endpoint = add_endpoint(cast)
    WebhookMessage.objects.bulk_create(
        WebhookMessage(
            endpoint=endpoint,
            message_id=f"msg_{i}",
            event_type="session.completed",
            payload={},
        )
        for i in range(count)
    )
    admin_client.get(page_url(cast))  # warm the session
    with django_assert_num_queries(9):
        response = admin_client.get(page_url(cast))
    assert response.content.decode().count("Redeliver<span") == min(count, 25)
