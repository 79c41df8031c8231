"""Periodic background jobs on Django's tasks API.

`STUDYHALL_PERIODIC_TASKS` maps a job name to a task (a dotted path to a function decorated
with `django_tasks.task`) and how often it runs. `manage.py run_scheduler` enqueues each job
when it is due; `manage.py db_worker` runs them. Jobs must be idempotent: a job that runs
twice (a retry, two schedulers racing) must not send or pay anything twice.

A worker that dies mid-task (kill -9, a lost machine) leaves its task claimed for ever: the
task queue marks it running and nothing else looks at it again. The scheduler hands such tasks
back to the queue once their lease (`STUDYHALL_TASK_LEASE_SECONDS`) has passed, which is safe
because every task is idempotent; so each side effect of a committed change runs at least once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from studyhall.core.models import PeriodicRun


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task_path: str
    every: timedelta

    def task(self) -> Any:
        return import_string(self.task_path)


def configured_jobs() -> list[PeriodicJob]:
    specs: dict[str, dict[str, Any]] = settings.STUDYHALL_PERIODIC_TASKS
    return [
        PeriodicJob(name, str(spec["task"]), timedelta(seconds=float(spec["every_seconds"])))
        for name, spec in specs.items()
    ]


def enqueue_due_jobs(*, now: datetime | None = None) -> list[str]:
    """Enqueue every job whose interval has passed since it was last enqueued."""
    now = now or timezone.now()
    enqueued = []
    for job in configured_jobs():
        PeriodicRun.objects.get_or_create(name=job.name)
        with transaction.atomic():
            run = PeriodicRun.objects.select_for_update().get(name=job.name)
            if run.last_enqueued_at is not None and now - run.last_enqueued_at < job.every:
                continue
            run.last_enqueued_at = now
            run.save(update_fields=["last_enqueued_at"])
            # Enqueue inside the claim: if it fails, the run is not marked as done.
            job.task().enqueue()
            enqueued.append(job.name)
    return enqueued


def requeue_abandoned_tasks(*, now: datetime | None = None) -> int:
    """Put tasks claimed longer ago than the lease back in the queue; return how many."""
    now = now or timezone.now()
    lease = timedelta(seconds=float(settings.STUDYHALL_TASK_LEASE_SECONDS))
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=now - lease
    ).update(status=TaskResultStatus.READY, started_at=None)
