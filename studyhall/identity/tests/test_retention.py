"""The periodic job removes closed chats, notifications and classroom presence older than the
organization keeps them, and nothing younger."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import time_machine
from django.db import transaction
from django.utils import timezone

from studyhall.calls.models import CallEvent
from studyhall.identity.models import RetentionPolicy
from studyhall.identity.tasks import apply_retention
from studyhall.notifications.models import Notification
from studyhall.support.models import Conversation, Message
from studyhall.support.services.chat import close_conversation, post_user_message
from studyhall.testing import factories as f

if TYPE_CHECKING:
    from conftest import Cast


def test_old_records_go_and_recent_ones_stay(cast: Cast) -> None:
    RetentionPolicy.objects.create(
        organization=cast.org, chat_days=30, notification_days=10, presence_days=40
    )
    now = timezone.now()
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    with time_machine.travel(now - timedelta(days=31), tick=False):
        old_chat = post_user_message(actor=cast.student, body="An old question")
        with transaction.atomic():
            close_conversation(actor=cast.agent, conversation_id=old_chat.conversation_id)
    recent_chat = post_user_message(actor=cast.student, body="A new question")
    for days, title in [(11, "old notice"), (9, "recent notice")]:
        Notification.objects.create(
            user=cast.student,
            kind="invitation",
            event="invited",
            title=title,
            created_at=now - timedelta(days=days),
        )
    for days in (41, 39):
        CallEvent.objects.create(
            session=session,
            user=cast.student,
            peer_id=f"p{days}",
            kind="joined",
            at=now - timedelta(days=days),
        )

    assert apply_retention.call() == {"conversations": 1, "notifications": 1, "presence": 1}

    assert list(Conversation.objects.values_list("pk", flat=True)) == [recent_chat.conversation_id]
    assert list(Message.objects.values_list("body", flat=True)) == ["A new question"]
    assert list(Notification.objects.values_list("title", flat=True)) == ["recent notice"]
    assert list(CallEvent.objects.values_list("peer_id", flat=True)) == ["p39"]
    # A second run finds nothing more.
    assert apply_retention.call() == {"conversations": 0, "notifications": 0, "presence": 0}


def test_the_org_admin_sets_retention_in_the_console(cast: Cast) -> None:
    from django.test import Client

    from studyhall.core.models import AuditEntry

    admin = Client()
    admin.force_login(cast.admin)
    url = f"/console/{cast.org.pk}/privacy/"
    assert "Keep closed support chats for (days)" in admin.get(url).content.decode()

    refused = admin.post(url, {"chat_days": "30", "notification_days": "10", "presence_days": "7"})
    assert refused.status_code == 400
    assert "Ensure this value is greater than or equal to 31." in refused.content.decode()
    assert not RetentionPolicy.objects.exists()

    saved = admin.post(url, {"chat_days": "30", "notification_days": "10", "presence_days": "60"})
    assert saved.status_code == 302
    policy = RetentionPolicy.objects.get(organization=cast.org)
    assert (policy.chat_days, policy.notification_days, policy.presence_days) == (30, 10, 60)
    assert AuditEntry.objects.get(action="retention.changed").data["after"] == {
        "chat_days": 30,
        "notification_days": 10,
        "presence_days": 60,
    }

    tutor = Client()
    tutor.force_login(cast.tutor)
    assert tutor.get(url).status_code == 403
    outsider = Client()
    outsider.force_login(cast.outsider)
    assert outsider.get(url).status_code == 404
