"""`manage.py run_scheduler`: enqueue periodic jobs when they are due (db_worker runs them)."""

import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from studyhall.core.periodic import configured_jobs, enqueue_due_jobs, requeue_abandoned_tasks


class Command(BaseCommand):
    help = "Enqueue Studyhall's periodic jobs as they fall due."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Check once and exit.")
        parser.add_argument(
            "--interval", type=float, default=30.0, help="Seconds between checks (default 30)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.running = True
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        names = ", ".join(job.name for job in configured_jobs()) or "none configured"
        self.stdout.write(f"Scheduler started ({names}).")
        while self.running:
            close_old_connections()
            for name in enqueue_due_jobs():
                self.stdout.write(f"Enqueued {name}.")
            if requeued := requeue_abandoned_tasks():
                self.stdout.write(f"Requeued {requeued} task(s) whose worker stopped mid-run.")
            if options["once"]:
                return
            time.sleep(options["interval"])

    def stop(self, signum: int, frame: FrameType | None) -> None:
        self.running = False
