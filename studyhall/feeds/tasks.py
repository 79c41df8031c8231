"""Background jobs of data feeds and webhooks (run by `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_webhook(message_id: int) -> str:
    """One attempt at a webhook message; a failure enqueues the next attempt itself."""
    from studyhall.feeds.webhooks import deliver

    return deliver(message_id).status
