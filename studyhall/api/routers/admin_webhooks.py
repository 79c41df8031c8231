"""Org admins' outbound webhook endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as Reply
from ninja.params.functions import Query
from pydantic import StrictStr

from studyhall.api.auth import actor_of
from studyhall.api.schemas import MAX_OFFSET, Input, ProblemOut
from studyhall.feeds import webhooks
from studyhall.feeds.access import admin_organization
from studyhall.feeds.models import WebhookEndpoint, WebhookMessage

router = Router(tags=["admin: webhooks"])
ERRORS = {(400, 401, 403, 404, 422): ProblemOut}


class EndpointIn(Input):
    url: StrictStr = Field(max_length=500)
    event_types: list[StrictStr] = Field(max_length=20)
    description: StrictStr = Field("", max_length=200)


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    secret: str = Field(description="Signs deliveries (Standard Webhooks, whsec_ + base64).")
    previous_secret_until: datetime | None
    is_active: bool
    created_at: datetime


class DeliveryOut(Schema):
    id: int
    message_id: str
    endpoint_id: int
    event_type: str
    status: str
    attempt_count: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any]


class DeliveryPage(Schema):
    count: int
    items: list[DeliveryOut]


@router.get("/{int:org_id}/webhooks/endpoints", response={200: list[EndpointOut], **ERRORS})
def list_endpoints(request: HttpRequest, org_id: int) -> list[WebhookEndpoint]:
    organization = admin_organization(actor_of(request), org_id)
    return list(WebhookEndpoint.objects.filter(organization=organization).order_by("id"))


@router.post("/{int:org_id}/webhooks/endpoints", response={201: EndpointOut, **ERRORS})
def create_endpoint(
    request: HttpRequest, org_id: int, payload: EndpointIn
) -> Reply[WebhookEndpoint]:
    """Register an endpoint for some event types; the answer carries its signing secret."""
    actor = actor_of(request)
    with transaction.atomic(durable=True):
        organization = admin_organization(actor, org_id)
        endpoint = webhooks.create_endpoint(
            actor=actor,
            organization=organization,
            url=payload.url,
            event_types=payload.event_types,
            description=payload.description,
        )
    return Reply(201, endpoint)


@router.post(
    "/{int:org_id}/webhooks/endpoints/{endpoint_id}/rotate", response={200: EndpointOut, **ERRORS}
)
def rotate_secret(request: HttpRequest, org_id: int, endpoint_id: int) -> WebhookEndpoint:
    """A new signing secret; the previous one keeps signing beside it for 24 hours."""
    actor = actor_of(request)
    with transaction.atomic(durable=True):
        organization = admin_organization(actor, org_id)
        return webhooks.rotate_secret(
            actor=actor, organization=organization, endpoint_id=endpoint_id
        )


@router.get("/{int:org_id}/webhooks/deliveries", response={200: DeliveryPage, **ERRORS})
def list_deliveries(
    request: HttpRequest,
    org_id: int,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """Messages sent to the organization's endpoints, newest first."""
    organization = admin_organization(actor_of(request), org_id)
    queryset = WebhookMessage.objects.filter(endpoint__organization=organization).order_by(
        "-created_at", "-id"
    )
    return {"count": queryset.count(), "items": list(queryset[offset : offset + limit])}


@router.post(
    "/{int:org_id}/webhooks/deliveries/{delivery_id}/redeliver",
    response={202: DeliveryOut, **ERRORS},
)
def redeliver(request: HttpRequest, org_id: int, delivery_id: int) -> Reply[WebhookMessage]:
    """Send a message again now, with its original `webhook-id`."""
    actor = actor_of(request)
    with transaction.atomic(durable=True):
        organization = admin_organization(actor, org_id)
        message = webhooks.redeliver(actor=actor, organization=organization, message_id=delivery_id)
    return Reply(202, message)
