"""The payout job as it runs for real: `run_scheduler` enqueues it, `db_worker` runs it.

Not a PostgreSQL test: the worker closes database connections between tasks, which the
test's own transaction does not survive there (the same holds for core's periodic tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from config.settings import STUDYHALL_PERIODIC_TASKS
from conftest import Cast
from studyhall.ledger.models import PayoutBatch
from studyhall.ledger.tests.conftest import Complete

NY = ZoneInfo("America/New_York")
WEEK = date(2025, 3, 3)
AFTER_WEEK = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)


def test_the_scheduler_and_worker_run_the_payout_job(
    cast: Cast, complete: Complete, settings: Any
) -> None:
    settings.STUDYHALL_PERIODIC_TASKS = {"payouts": STUDYHALL_PERIODIC_TASKS["payouts"]}
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY))

    with time_machine.travel(AFTER_WEEK, tick=False):
        call_command("run_scheduler", "--once")
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")

    # The completion's recap task ran in the same batch; the payout job is the other one.
    result = DBTaskResult.objects.exclude(
        task_path="studyhall.tutoring.services.notify.send_recap"
    ).get()
    assert (result.status, result.task_path) == ("SUCCESSFUL", "studyhall.ledger.tasks.run_payouts")
    batch = PayoutBatch.objects.get(organization=cast.org)
    assert (batch.week_start, batch.payouts.get().amount_cents) == (WEEK, 1375)
