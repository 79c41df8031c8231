"""Outbound webhooks: what happened (from the audit log), who wants it, and delivery.

Every state or money change writes an audit entry in its own transaction; an entry whose
action integrators care about becomes one message per subscribed endpoint, and its delivery
task is enqueued in that same transaction (django-tasks stores it in the database), so a
rolled-back change sends nothing and a committed one cannot be lost. Delivery runs in the
worker, outside any lock: one POST per attempt, each attempt recorded, failures retried with
exponential backoff for about a day (the Standard Webhooks schedule).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import InvalidInput, NotFound
from studyhall.core.models import AuditEntry
from studyhall.core.queries import INT_KEY, KeyedRead
from studyhall.feeds import signing
from studyhall.feeds.models import (
    EventType,
    MessageStatus,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)
from studyhall.orgs.models import Organization
from studyhall.tutoring.models import Origin, Session, Status

# After the first try: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — 27 hours in all.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
ROTATION_OVERLAP = timedelta(hours=24)
TIMEOUT_SECONDS = 15.0
ERROR_MAX = 500
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


# -- from the audit log to event types ------------------------------------------------------


def event_types_for(entry: AuditEntry) -> list[EventType]:
    """The event types the entry may be, known from the entry alone (no query)."""
    if entry.action == "session.created":
        return [EventType.SESSION_REQUESTED] if entry.data.get("origin") == Origin.REQUEST else []
    return list(_DIRECT.get(entry.action, ()))


_DIRECT: dict[str, tuple[EventType, ...]] = {
    # Only the answer that made the session Scheduled (the last student, or the tutor):
    # `session_is_scheduled` checks an acceptance. A new time everyone accepted is recorded
    # as `session.rescheduled`, once the session is Scheduled at it.
    "session.accepted": (EventType.SESSION_SCHEDULED,),
    "session.rescheduled": (EventType.SESSION_SCHEDULED,),
    "session.canceled": (EventType.SESSION_CANCELED,),
    "session.completed": (EventType.SESSION_COMPLETED, EventType.RECAP_WRITTEN),
    "session.completed_by_support": (EventType.SESSION_COMPLETED, EventType.RECAP_WRITTEN),
    "session.missed": (EventType.SESSION_MISSED,),
    "payout.scheduled": (EventType.PAYOUT_SCHEDULED,),
    "payout.paid": (EventType.PAYOUT_PAID,),
    "payout.failed": (EventType.PAYOUT_FAILED,),
    "person.invited": (EventType.PERSON_ADDED,),
    "person.deactivated": (EventType.PERSON_DEACTIVATED,),
}


def session_is_scheduled(entry: AuditEntry) -> bool:
    if entry.session_id is None:
        return False
    status = Session.objects.filter(pk=entry.session_id).values_list("status", flat=True)
    return status.first() == Status.SCHEDULED


def payload_for(entry: AuditEntry, event_type: str) -> dict[str, Any]:
    data: dict[str, Any] = {"organization_id": entry.organization_id}
    if entry.session_id is not None:
        data["session_id"] = entry.session_id
    data.update(entry.data)
    return {
        "type": event_type,
        "timestamp": entry.created_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }


# An organization's active endpoints, compiled once: every completion reads them. By id (the
# model's ordering would join the organization for its name; one is given).
_ACTIVE_ENDPOINTS = KeyedRead(
    lambda organization_id: WebhookEndpoint.objects.filter(
        organization_id=organization_id, is_active=True
    ).order_by("pk"),
    placeholder=INT_KEY,
)


def on_audit_entry(entry: AuditEntry) -> list[WebhookMessage]:
    """Called for each new audit entry, inside the transaction that wrote it. An action no
    integrator hears of costs no query; one they may hear of costs one (the organization's
    endpoints), and an acceptance a second only when an endpoint wants it."""
    if entry.organization_id is None:
        return []
    types = event_types_for(entry)
    if not types:
        return []
    endpoints = _ACTIVE_ENDPOINTS.all(entry.organization_id)
    wanted = [(t, e) for t in types for e in endpoints if t in e.event_types]
    if not wanted or (entry.action == "session.accepted" and not session_is_scheduled(entry)):
        return []
    return [_queue(endpoint, t, payload_for(entry, t)) for t, endpoint in wanted]


def _queue(endpoint: WebhookEndpoint, event_type: str, payload: dict[str, Any]) -> WebhookMessage:
    from studyhall.feeds.tasks import deliver_webhook

    message = WebhookMessage.objects.create(
        endpoint=endpoint,
        message_id=f"msg_{uuid.uuid4().hex}",
        event_type=event_type,
        payload=payload,
        next_attempt_at=timezone.now(),
    )
    deliver_webhook.enqueue(message.pk)
    return message


# -- delivery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str
    attempt: WebhookAttempt | None


def secrets_in_use(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    in_use = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until
        and now < (endpoint.previous_secret_until)
    ):
        in_use.append(endpoint.previous_secret)
    return in_use


def body_of(message: WebhookMessage) -> bytes:
    return json.dumps(message.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def deliver(message_id: int) -> Outcome:
    """One attempt at a message (the worker's task). A message already delivered, or given
    up on, is left alone, so a duplicated task sends nothing twice."""
    message = WebhookMessage.objects.select_related("endpoint").filter(pk=message_id).first()
    if message is None or message.status != MessageStatus.PENDING:
        return Outcome(message.status if message else "gone", None)
    endpoint = message.endpoint
    started = timezone.now()
    body = body_of(message)
    headers = signing.headers(
        secrets_in_use(endpoint, started),
        message_id=message.message_id,
        timestamp=int(started.timestamp()),
        body=body,
    )
    clock = time.monotonic()
    status_code: int | None = None
    error = ""
    # Imported here: the HTTP client is only the worker's, not every web process's.
    import httpx

    try:
        response = httpx.post(endpoint.url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"The endpoint answered {status_code}."
    except httpx.HTTPError as exc:
        error = f"Could not reach the endpoint: {exc.__class__.__name__}: {exc}"[:ERROR_MAX]
    duration_ms = int((time.monotonic() - clock) * 1000)
    return _record(message.pk, started, status_code, error, duration_ms)


def _record(
    message_pk: int, started: datetime, status_code: int | None, error: str, duration_ms: int
) -> Outcome:
    from studyhall.feeds.tasks import deliver_webhook

    with transaction.atomic():
        message = WebhookMessage.objects.select_for_update().get(pk=message_pk)
        attempt = WebhookAttempt.objects.create(
            message=message,
            attempted_at=started,
            response_status=status_code,
            error=error,
            duration_ms=duration_ms,
            succeeded=not error,
        )
        if message.status != MessageStatus.PENDING:
            return Outcome(message.status, attempt)
        message.attempt_count += 1
        if not error:
            message.status = MessageStatus.DELIVERED
            message.delivered_at = timezone.now()
            message.next_attempt_at = None
        elif message.attempt_count > len(RETRY_DELAYS):
            message.status = MessageStatus.FAILED
            message.next_attempt_at = None
        else:
            message.next_attempt_at = timezone.now() + RETRY_DELAYS[message.attempt_count - 1]
            deliver_webhook.using(run_after=message.next_attempt_at).enqueue(message.pk)
        message.save(update_fields=["attempt_count", "status", "delivered_at", "next_attempt_at"])
    return Outcome(message.status, attempt)


# -- what admins do ------------------------------------------------------------------------


_URL = URLValidator(schemes=["http", "https"])


def _check_url(url: str) -> str:
    url = url.strip()
    try:
        # Django's validator refuses what no HTTP client could send to (a broken IPv6
        # address, spaces in the host); control characters it lets through in the path.
        _URL(url)
        parts = urlsplit(url)
        # Reading the port raises ValueError for one outside 0..65535.
        valid = url.isprintable() and (parts.port is None or parts.port > 0)
    except (ValidationError, ValueError):
        valid = False
    if valid:
        # Plain http only to this machine (a receiver under development); anything else is TLS.
        local = parts.hostname in LOOPBACK_HOSTS
        allowed = ("https", "http") if local or settings.DEBUG else ("https",)
        valid = parts.scheme in allowed and bool(parts.hostname) and len(url) <= 500
    if not valid:
        raise InvalidInput(
            "Give the endpoint's full address, starting with https:// (at most 500 characters).",
            code="invalid_webhook_url",
            field="url",
        )
    return url


def _check_types(event_types: Iterable[str]) -> list[str]:
    chosen = sorted(set(event_types))
    unknown = [t for t in chosen if t not in EventType.values]
    if unknown or not chosen:
        raise InvalidInput(
            "Choose at least one event type: " + ", ".join(EventType.values) + ".",
            code="invalid_event_types",
            field="event_types",
        )
    return chosen


def create_endpoint(
    *,
    actor: User,
    organization: Organization,
    url: str,
    event_types: Iterable[str],
    description: str = "",
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=_check_url(url),
        description=description.strip()[:200],
        event_types=_check_types(event_types),
        secret=signing.new_secret(),
        created_by=actor,
    )
    audit.record(
        actor=actor,
        action="webhook.endpoint_created",
        organization_id=organization.pk,
        endpoint_id=endpoint.pk,
        url=endpoint.url,
        event_types=endpoint.event_types,
    )
    return endpoint


def endpoint_of(
    organization: Organization, endpoint_id: int, *, lock: bool = False
) -> WebhookEndpoint:
    queryset = WebhookEndpoint.objects.select_for_update() if lock else WebhookEndpoint.objects
    endpoint = queryset.filter(organization=organization, pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("There is no such webhook endpoint.")
    return endpoint


def rotate_secret(*, actor: User, organization: Organization, endpoint_id: int) -> WebhookEndpoint:
    """A new secret from now on; the old one keeps signing beside it for a day."""
    endpoint = endpoint_of(organization, endpoint_id, lock=True)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = signing.new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    audit.record(
        actor=actor,
        action="webhook.secret_rotated",
        organization_id=organization.pk,
        endpoint_id=endpoint.pk,
    )
    return endpoint


def set_endpoint_active(
    *, actor: User, organization: Organization, endpoint_id: int, active: bool
) -> WebhookEndpoint:
    endpoint = endpoint_of(organization, endpoint_id, lock=True)
    if endpoint.is_active != active:
        endpoint.is_active = active
        endpoint.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="webhook.endpoint_enabled" if active else "webhook.endpoint_disabled",
            organization_id=organization.pk,
            endpoint_id=endpoint.pk,
        )
    return endpoint


def redeliver(*, actor: User, organization: Organization, message_id: int) -> WebhookMessage:
    """Send a message again, now, with its original id (the receiver can tell it is the same
    event); a failed one starts its retries afresh."""
    from studyhall.feeds.tasks import deliver_webhook

    message = (
        WebhookMessage.objects.select_for_update()
        .filter(endpoint__organization=organization, pk=message_id)
        .first()
    )
    if message is None:
        raise NotFound("There is no such webhook delivery.")
    message.status = MessageStatus.PENDING
    message.attempt_count = 0
    message.next_attempt_at = timezone.now()
    message.save(update_fields=["status", "attempt_count", "next_attempt_at"])
    deliver_webhook.enqueue(message.pk)
    audit.record(
        actor=actor,
        action="webhook.redelivered",
        organization_id=organization.pk,
        message_id=message.message_id,
    )
    return message
