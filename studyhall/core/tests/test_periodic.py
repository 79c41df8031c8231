from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from studyhall.core.periodic import enqueue_due_jobs

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
