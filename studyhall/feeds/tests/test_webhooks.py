"""Signed outbound webhooks against a real receiver on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from studyhall.core import audit
from studyhall.feeds import webhooks
from studyhall.feeds.models import MessageStatus, WebhookAttempt, WebhookEndpoint, WebhookMessage
from studyhall.feeds.tests.receiver import Receiver, running_receiver
from studyhall.testing import factories as f
from studyhall.tutoring.models import Session
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.rescheduling import accept_proposal, propose_time
from studyhall.tutoring.services.scheduling import accept_session, cancel_session

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = pytest.mark.postgres


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


def endpoint(cast: Cast, receiver: Receiver, *types: str) -> WebhookEndpoint:
    with transaction.atomic():
        made = webhooks.create_endpoint(
            actor=cast.admin, organization=cast.org, url=receiver.url, event_types=types
        )
    receiver.secret = made.secret
    return made


def completed(cast: Cast) -> Session:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=55, recap=f.GOOD_RECAP)
    return session


def deliver_all() -> list[str]:
    return [
        webhooks.deliver(m.pk).status
        for m in WebhookMessage.objects.filter(status=MessageStatus.PENDING).order_by("id")
    ]


def test_a_completion_is_delivered_signed(cast: Cast, receiver: Receiver) -> None:
    hook = endpoint(cast, receiver, "session.completed", "recap.written")
    session = completed(cast)

    messages = list(WebhookMessage.objects.order_by("id"))
    assert [(m.endpoint_id, m.event_type, m.status) for m in messages] == [
        (hook.pk, "session.completed", "pending"),
        (hook.pk, "recap.written", "pending"),
    ]
    # Enqueued with the completion, in its transaction.
    assert (
        DBTaskResult.objects.filter(task_path="studyhall.feeds.tasks.deliver_webhook").count() == 2
    )

    assert deliver_all() == ["delivered", "delivered"]
    assert receiver.refused == []
    assert [r["id"] for r in receiver.received] == [m.message_id for m in messages]
    first = receiver.received[0]["payload"]
    assert first["type"] == "session.completed"
    assert first["data"]["session_id"] == session.pk
    assert first["data"]["organization_id"] == cast.org.pk
    assert first["data"]["minutes"] == 55
    attempts = list(WebhookAttempt.objects.order_by("id"))
    assert [(a.response_status, a.succeeded, a.error) for a in attempts] == [
        (204, True, ""),
        (204, True, ""),
    ]
    # A duplicated task sends nothing twice.
    assert deliver_all() == []
    assert webhooks.deliver(messages[0].pk).status == "delivered"
    assert len(receiver.received) == 2


def test_only_subscribed_events_of_active_endpoints_are_sent(
    cast: Cast, receiver: Receiver
) -> None:
    endpoint(cast, receiver, "session.canceled")
    other = endpoint(cast, receiver, "session.completed")
    with transaction.atomic():
        webhooks.set_endpoint_active(
            actor=cast.admin, organization=cast.org, endpoint_id=other.pk, active=False
        )
    completed(cast)
    assert WebhookMessage.objects.count() == 0


def test_the_answer_that_schedules_a_session_sends_session_scheduled(
    cast: Cast, receiver: Receiver
) -> None:
    """Whichever answer makes the session Scheduled, at its first time or at a new one the
    tutor proposed, sends it; the answers before that one do not."""
    endpoint(cast, receiver, "session.scheduled")
    start = timezone.now() + timedelta(days=3)
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        start=start,
        states=["invited", "invited"],
    )
    accept_session(session_id=session.pk, actor=cast.student)
    assert WebhookMessage.objects.count() == 0
    accept_session(session_id=session.pk, actor=cast.student2)
    [first] = WebhookMessage.objects.all()
    assert (first.event_type, first.payload["data"]["session_id"]) == (
        "session.scheduled",
        session.pk,
    )

    later = start + timedelta(days=1)
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=later)
    accept_proposal(session_id=session.pk, actor=cast.student)
    assert WebhookMessage.objects.count() == 1
    accept_proposal(session_id=session.pk, actor=cast.student2)

    session.refresh_from_db()
    assert (session.status, session.scheduled_start) == ("scheduled", later)
    [_, moved] = WebhookMessage.objects.order_by("id")
    assert moved.event_type == "session.scheduled"
    assert moved.payload["data"]["session_id"] == session.pk
    assert moved.payload["data"]["scheduled_start"] == later.isoformat()


def test_the_audit_receiver_queries_only_for_what_an_endpoint_may_want(
    cast: Cast, receiver: Receiver, django_assert_num_queries: Any
) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    hook = endpoint(cast, receiver, "session.canceled")

    def accepted() -> None:
        audit.record(
            actor=cast.student,
            action="session.accepted",
            organization_id=cast.org.pk,
            session_id=session.pk,
        )

    with django_assert_num_queries(1):  # the entry; nobody hears of declines
        audit.record(actor=cast.tutor, action="session.declined", organization_id=cast.org.pk)
    with django_assert_num_queries(2):  # the entry, the endpoints (none wants it)
        accepted()
    hook.event_types = ["session.scheduled"]
    hook.save(update_fields=["event_types"])
    with django_assert_num_queries(5):  # entry, endpoints, status, the message and its task
        accepted()
    assert [m.event_type for m in WebhookMessage.objects.all()] == ["session.scheduled"]


def test_a_receiver_that_is_down_gets_the_message_when_it_is_back(
    cast: Cast, receiver: Receiver
) -> None:
    endpoint(cast, receiver, "session.completed")
    completed(cast)
    message = WebhookMessage.objects.get()
    receiver.up = False
    before = timezone.now()

    assert webhooks.deliver(message.pk).status == "pending"
    message.refresh_from_db()
    assert message.attempt_count == 1
    next_try = message.next_attempt_at
    assert next_try is not None
    assert before + timedelta(seconds=5) <= next_try <= timezone.now() + timedelta(seconds=5)
    retry = DBTaskResult.objects.filter(task_path="studyhall.feeds.tasks.deliver_webhook").latest(
        "enqueued_at"
    )
    assert retry.run_after == message.next_attempt_at
    assert receiver.received == []

    receiver.up = True
    assert webhooks.deliver(message.pk).status == "delivered"
    assert [(a.response_status, a.succeeded) for a in message.attempts.order_by("id")] == [
        (503, False),
        (204, True),
    ]
    assert [r["id"] for r in receiver.received] == [message.message_id]


def test_an_unreachable_endpoint_is_retried_for_about_a_day_then_given_up(cast: Cast) -> None:
    with socket.socket() as sock:  # a port with nothing listening on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = Receiver(url=f"http://127.0.0.1:{port}/hooks")
    endpoint(cast, dead, "session.completed")
    completed(cast)
    message = WebhookMessage.objects.get()

    statuses = [webhooks.deliver(message.pk).status for _ in range(8)]
    assert statuses == ["pending"] * 7 + ["failed"]
    assert sum(webhooks.RETRY_DELAYS, timedelta()) == timedelta(hours=27, minutes=35, seconds=5)
    attempts = list(message.attempts.order_by("id"))
    assert len(attempts) == 8
    assert all(a.response_status is None and not a.succeeded for a in attempts)
    assert attempts[0].error.startswith("Could not reach the endpoint: ConnectError")
    # Given up: a late duplicate task does nothing.
    assert webhooks.deliver(message.pk).status == "failed"
    assert message.attempts.count() == 8


def test_a_rolled_back_change_sends_nothing(cast: Cast, receiver: Receiver) -> None:
    endpoint(cast, receiver, "session.canceled")
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() + timedelta(days=2),
    )
    tasks_before = DBTaskResult.objects.count()

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        cancel_session(session_id=session.pk, actor=cast.tutor, reason="Snow day")
        assert WebhookMessage.objects.count() == 1
        raise Undo

    assert WebhookMessage.objects.count() == 0
    assert DBTaskResult.objects.count() == tasks_before

    cancel_session(session_id=session.pk, actor=cast.tutor, reason="Snow day")
    assert deliver_all() == ["delivered"]
    assert receiver.received[0]["payload"]["type"] == "session.canceled"


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(
    cast: Cast, receiver: Receiver
) -> None:
    hook = endpoint(cast, receiver, "session.completed")
    old = hook.secret
    with transaction.atomic():
        rotated = webhooks.rotate_secret(
            actor=cast.admin, organization=cast.org, endpoint_id=hook.pk
        )
    assert rotated.secret != old
    assert rotated.secret.startswith("whsec_")
    completed(cast)
    message = WebhookMessage.objects.get()

    receiver.secret = old  # a receiver not switched yet
    assert webhooks.deliver(message.pk).status == "delivered"
    receiver.secret = rotated.secret
    with transaction.atomic():
        webhooks.redeliver(actor=cast.admin, organization=cast.org, message_id=message.pk)
    assert webhooks.deliver(message.pk).status == "delivered"
    assert [r["id"] for r in receiver.received] == [message.message_id, message.message_id]

    # A day later only the new secret signs.
    WebhookEndpoint.objects.filter(pk=hook.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    receiver.secret = old
    with transaction.atomic():
        webhooks.redeliver(actor=cast.admin, organization=cast.org, message_id=message.pk)
    assert webhooks.deliver(message.pk).status == "pending"
    assert receiver.refused == ["No matching signature found"]


def test_bad_endpoints_are_refused_and_nothing_is_written(cast: Cast) -> None:
    from studyhall.core.errors import InvalidInput

    for url, types, code in [
        ("ftp://example.test/x", ["session.completed"], "invalid_webhook_url"),
        # Addresses no HTTP client could send to: each delivery would fail without a record.
        ("https://[::1/x", ["session.completed"], "invalid_webhook_url"),
        ("https://example.test/a\x01b", ["session.completed"], "invalid_webhook_url"),
        ("https://exa mple.test/x", ["session.completed"], "invalid_webhook_url"),
        ("https://example.test:99999/x", ["session.completed"], "invalid_webhook_url"),
        ("https://example.test/x", [], "invalid_event_types"),
        ("https://example.test/x", ["session.exploded"], "invalid_event_types"),
    ]:
        with pytest.raises(InvalidInput) as refused, transaction.atomic():
            webhooks.create_endpoint(
                actor=cast.admin, organization=cast.org, url=url, event_types=types
            )
        assert refused.value.code == code
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="db_worker closes the test's connection on PostgreSQL; the run is proven on SQLite",
)
def test_the_worker_delivers_from_the_queue(cast: Cast, receiver: Receiver, settings: Any) -> None:
    endpoint(cast, receiver, "session.completed")
    completed(cast)
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    assert WebhookMessage.objects.get().status == "delivered"
    assert len(receiver.received) == 1
