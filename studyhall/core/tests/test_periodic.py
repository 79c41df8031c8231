from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from studyhall.core.periodic import enqueue_due_jobs, requeue_abandoned_tasks

CALLS: list[str] = []


@task()
def ping() -> None:
    CALLS.append("ping")


JOBS = {"ping": {"task": "studyhall.core.tests.test_periodic.ping", "every_seconds": 300}}
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _jobs(settings: Any) -> None:
    settings.STUDYHALL_PERIODIC_TASKS = JOBS
    CALLS.clear()


@pytest.mark.django_db
def test_a_job_is_enqueued_once_per_interval() -> None:
    assert enqueue_due_jobs(now=T0) == ["ping"]
    assert enqueue_due_jobs(now=T0) == []
    assert enqueue_due_jobs(now=T0 + timedelta(seconds=299)) == []
    assert enqueue_due_jobs(now=T0 + timedelta(seconds=300)) == ["ping"]
    assert DBTaskResult.objects.count() == 2


@pytest.mark.django_db
def test_the_worker_runs_what_the_scheduler_enqueued() -> None:
    call_command("run_scheduler", "--once")
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    assert CALLS == ["ping"]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


@pytest.mark.django_db
def test_a_task_whose_worker_died_is_queued_again_after_its_lease(settings: Any) -> None:
    settings.STUDYHALL_TASK_LEASE_SECONDS = 600
    ping.enqueue()
    orphan = DBTaskResult.objects.get()
    # A worker claimed it, then was killed with -9: the row says running, for ever.
    orphan.claim("worker-that-died")
    claimed_at = orphan.started_at
    assert claimed_at is not None

    assert requeue_abandoned_tasks(now=claimed_at + timedelta(seconds=599)) == 0
    assert DBTaskResult.objects.get().status == "RUNNING"
    assert requeue_abandoned_tasks(now=claimed_at + timedelta(seconds=601)) == 1
    requeued = DBTaskResult.objects.get()
    assert (requeued.status, requeued.started_at) == ("READY", None)
    assert requeued.worker_ids == ["worker-that-died"]

    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    assert CALLS == ["ping"]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    # Finished tasks are never touched, however old.
    assert requeue_abandoned_tasks(now=claimed_at + timedelta(days=30)) == 0
