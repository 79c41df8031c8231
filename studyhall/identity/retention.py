"""Removing what organizations no longer keep: closed support conversations, notifications
and classroom presence older than the organization's retention policy.

Someone in several organizations keeps a record as long as the longest-keeping of them wants
it; a person in no organization falls under the defaults. Idempotent: a second run the same
minute removes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max, Q
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.calls.models import CallEvent, Connection
from studyhall.core import audit
from studyhall.core.errors import InvalidInput
from studyhall.identity.models import MIN_PRESENCE_DAYS, RetentionPolicy
from studyhall.notifications.models import Notification
from studyhall.orgs.models import Member, Organization
from studyhall.orgs.services.access import admin_organization
from studyhall.support.models import Conversation, ConversationStatus, Message


@dataclass(frozen=True)
class Removed:
    conversations: int
    notifications: int
    presence: int


DEFAULTS = RetentionPolicy()
MAX_DAYS = 3650


def policy_of(organization: Organization) -> RetentionPolicy:
    return RetentionPolicy.objects.filter(organization=organization).first() or DEFAULTS


def _days_by_user(field: str) -> dict[int, int]:
    """Each member's longest retention in `field` days across their organizations."""
    policies = {p.organization_id: getattr(p, field) for p in RetentionPolicy.objects.all()}
    default = getattr(DEFAULTS, field)
    days: dict[int, int] = {}
    for user_id, org_id in Member.objects.values_list("user_id", "organization_id"):
        days[user_id] = max(days.get(user_id, 0), policies.get(org_id, default))
    return days


def _remove_for_users(field: str, delete_older: Callable[[Q, datetime], int]) -> int:
    now = timezone.now()
    days_by_user = _days_by_user(field)
    by_days: dict[int, list[int]] = {}
    for user_id, days in days_by_user.items():
        by_days.setdefault(days, []).append(user_id)
    removed = sum(
        delete_older(Q(user_id__in=user_ids), now - timedelta(days=days))
        for days, user_ids in by_days.items()
    )
    nobodys = now - timedelta(days=getattr(DEFAULTS, field))
    return removed + delete_older(~Q(user_id__in=list(days_by_user)), nobodys)


def _delete_notifications(who: Q, cutoff: datetime) -> int:
    old = Notification.objects.filter(who, created_at__lt=cutoff)
    unread_of = set(old.filter(read_at__isnull=True).values_list("user_id", flat=True))
    removed: int = old.delete()[0]
    # The header's unread count is kept on the user row; it follows what is left.
    for user_id in unread_of:
        User.objects.filter(pk=user_id).update(
            unread_notifications=Notification.objects.filter(
                user_id=user_id, read_at__isnull=True
            ).count()
        )
    return removed


def _delete_conversations(who: Q, cutoff: datetime) -> int:
    old = (
        Conversation.objects.filter(who, status=ConversationStatus.CLOSED)
        .annotate(last=Max("messages__created_at"))
        .filter(Q(last__lt=cutoff) | Q(last__isnull=True, created_at__lt=cutoff))
        .values_list("pk", flat=True)
    )
    ids = list(old)
    Message.objects.filter(conversation_id__in=ids).delete()
    removed: int = Conversation.objects.filter(pk__in=ids).delete()[0]
    return removed


def apply_retention() -> Removed:
    conversations = _remove_for_users("chat_days", _delete_conversations)
    notifications = _remove_for_users("notification_days", _delete_notifications)
    presence = 0
    now = timezone.now()
    for org in Organization.objects.all():
        cutoff = now - timedelta(days=policy_of(org).presence_days)
        presence += CallEvent.objects.filter(session__organization=org, at__lt=cutoff).delete()[0]
        presence += Connection.objects.filter(
            session__organization=org, last_seen_at__lt=cutoff
        ).delete()[0]
    removed = Removed(conversations, notifications, presence)
    if conversations or notifications or presence:
        audit.record(
            actor=None,
            action="retention.applied",
            conversations=conversations,
            notifications=notifications,
            presence=presence,
        )
    return removed


def set_retention(
    *,
    organization_id: int,
    actor: User,
    chat_days: int,
    notification_days: int,
    presence_days: int,
) -> RetentionPolicy:
    """The org admin's choice of how long chats, notifications and presence are kept."""
    organization = admin_organization(actor, organization_id, lock=True)
    values = {
        "chat_days": chat_days,
        "notification_days": notification_days,
        "presence_days": presence_days,
    }
    for field, value in values.items():
        low = MIN_PRESENCE_DAYS if field == "presence_days" else 1
        if not low <= value <= MAX_DAYS:
            raise InvalidInput(
                f"Keep it from {low} to {MAX_DAYS} days; {value} is outside that.",
                code="retention_out_of_range",
                field=field,
            )
    policy, _ = RetentionPolicy.objects.get_or_create(organization=organization)
    before = {field: getattr(policy, field) for field in values}
    RetentionPolicy.objects.filter(pk=policy.pk).update(**values)
    policy.refresh_from_db()
    audit.record(
        actor=actor,
        action="retention.changed",
        organization_id=organization.pk,
        before=before,
        after=values,
    )
    return policy
