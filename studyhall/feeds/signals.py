"""New audit entries become webhook messages, in the transaction that wrote them."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from studyhall.core.models import AuditEntry


@receiver(post_save, sender=AuditEntry, dispatch_uid="feeds.audit_entry_to_webhooks")
def audit_entry_to_webhooks(
    sender: Any, instance: AuditEntry, created: bool, **kwargs: Any
) -> None:
    if created:
        from studyhall.feeds.webhooks import on_audit_entry

        on_audit_entry(instance)
