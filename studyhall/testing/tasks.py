"""Running the task queue inside a test: what `manage.py db_worker` does, in this process and
this test's transaction (the worker's own loop closes database connections between tasks)."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

WORKER_ID = "test-worker"


def run_queued_tasks(*, again: bool = False) -> int:
    """Run every ready task, oldest first, until none is left; returns how many ran. A task
    that raises fails the test. `again=True` also reruns the tasks already run, as a worker
    that died before recording its result would."""
    if again:
        DBTaskResult.objects.exclude(status="READY").update(status="READY", worker_ids=[])
    ran = 0
    while (row := DBTaskResult.objects.ready().order_by("enqueued_at", "id").first()) is not None:
        row.claim(WORKER_ID)
        result = row.task_result
        value = row.task.call(*result.args, **result.kwargs)
        row.set_successful(value)
        ran += 1
    return ran


def queued_task_paths() -> list[str]:
    """The tasks waiting to run, in order."""
    return list(
        DBTaskResult.objects.ready()
        .order_by("enqueued_at", "id")
        .values_list("task_path", flat=True)
    )
