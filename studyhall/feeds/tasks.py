"""Background jobs of data feeds and webhooks (run by `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_webhook(message_id: int) -> str:
    """One attempt at a webhook message; a failure enqueues the next attempt itself."""
    from studyhall.feeds.webhooks import deliver

    return deliver(message_id).status


@task()
def run_nightly_feeds() -> list[int]:
    """Every 15 minutes: each organization's feed once its night has come; failed pushes again."""
    from studyhall.feeds.nightly import run_due_feeds

    return run_due_feeds()
