"""Background jobs of identity and privacy."""

from django.db import transaction
from django_tasks import task

from studyhall.identity import retention


@task()
def apply_retention() -> dict[str, int]:
    """Every hour: remove chats, notifications and presence older than organizations keep."""
    with transaction.atomic(durable=True):
        removed = retention.apply_retention()
    return {
        "conversations": removed.conversations,
        "notifications": removed.notifications,
        "presence": removed.presence,
    }
