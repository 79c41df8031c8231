"""/api/v1/admin/orgs/{org_id}/webhooks: endpoints and deliveries through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.feeds.models import WebhookEndpoint, WebhookMessage

if TYPE_CHECKING:
    from conftest import Cast


def test_an_admin_registers_rotates_and_redelivers(
    cast: Cast, api_as: Callable[[User], Api]
) -> None:
    api = api_as(cast.admin)
    created = api.post(
        f"/admin/orgs/{cast.org.pk}/webhooks/endpoints",
        {"url": "https://sis.example.edu/hooks", "event_types": ["session.completed"]},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["url"], body["event_types"], body["is_active"]) == (
        "https://sis.example.edu/hooks",
        ["session.completed"],
        True,
    )
    assert body["secret"].startswith("whsec_")
    assert [e["id"] for e in api.get(f"/admin/orgs/{cast.org.pk}/webhooks/endpoints").json()] == [
        body["id"]
    ]

    rotated = api.post(f"/admin/orgs/{cast.org.pk}/webhooks/endpoints/{body['id']}/rotate").json()
    assert rotated["secret"] != body["secret"]
    assert rotated["previous_secret_until"] is not None

    message = WebhookMessage.objects.create(
        endpoint=WebhookEndpoint.objects.get(),
        message_id="msg_7",
        event_type="session.completed",
        payload={"type": "session.completed"},
        status="failed",
        attempt_count=8,
    )
    page = api.get(f"/admin/orgs/{cast.org.pk}/webhooks/deliveries").json()
    assert (page["count"], page["items"][0]["message_id"]) == (1, "msg_7")
    again = api.post(f"/admin/orgs/{cast.org.pk}/webhooks/deliveries/{message.pk}/redeliver")
    assert again.status_code == 202
    assert (again.json()["status"], again.json()["attempt_count"]) == ("pending", 0)


def test_refusals_write_nothing(cast: Cast, api_as: Callable[[User], Api]) -> None:
    api = api_as(cast.admin)
    assert_problem(
        api.post(
            f"/admin/orgs/{cast.org.pk}/webhooks/endpoints",
            {"url": "https://sis.example.edu/hooks", "event_types": ["nope"]},
        ),
        400,
        "invalid_event_types",
    )
    assert_problem(
        api.post(
            f"/admin/orgs/{cast.org.pk}/webhooks/endpoints",
            {"url": "https://[::1/hooks", "event_types": ["session.completed"]},
        ),
        400,
        "invalid_webhook_url",
    )
    assert_problem(
        api_as(cast.tutor).post(
            f"/admin/orgs/{cast.org.pk}/webhooks/endpoints",
            {"url": "https://sis.example.edu/hooks", "event_types": ["session.completed"]},
        ),
        403,
        "forbidden",
    )
    assert_problem(
        api.post(f"/admin/orgs/{cast.org.pk}/webhooks/deliveries/999/redeliver"), 404, "not_found"
    )
    assert WebhookEndpoint.objects.count() == 0
