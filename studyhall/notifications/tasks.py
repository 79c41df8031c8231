"""Background jobs of notifications (run by `manage.py db_worker`)."""

from django_tasks import task

from studyhall.notifications import reminders


@task()
def send_due_reminders() -> int:
    """Every two minutes: the reminders before sessions and to log them. Idempotent."""
    return reminders.send_due_reminders()
