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


@task()
def run_feed_now(*, organization_id: int, night: str) -> int | None:
    """An admin's "Run tonight's feed now": the nightly job's steps for that night, each done
    once however often this runs (studyhall.feeds.nightly.run_night)."""
    from datetime import date

    from studyhall.feeds.models import FeedConfig
    from studyhall.feeds.nightly import run_night

    config = (
        FeedConfig.objects.select_related("organization", "run_as")
        .filter(organization_id=organization_id)
        .first()
    )
    if config is None:
        return None
    run = run_night(config, date.fromisoformat(night))
    return run.pk if run is not None else None
