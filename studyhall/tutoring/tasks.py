"""Background jobs of tutoring sessions (run by `manage.py db_worker`, scheduled through
`STUDYHALL_PERIODIC_TASKS`)."""

from django_tasks import task

from studyhall.tutoring import reminders
from studyhall.tutoring.services import confirmations, missed


@task()
def mark_missed_sessions() -> dict[str, list[int]]:
    """Every minute: expire unanswered new times that have arrived, and mark the sessions
    nobody agreed to in time as missed. Idempotent."""
    result = missed.sweep()
    return {
        "expired_proposals": result.expired_proposals,
        "missed_sessions": result.missed_sessions,
    }


@task()
def send_due_reminders() -> int:
    """Every two minutes: the reminders before sessions and to log them. Idempotent."""
    return reminders.send_due_reminders()


@task()
def auto_confirm_sessions() -> list[int]:
    """Every few minutes: sessions whose students stayed silent past the auto-confirm time
    count as confirmed, and their earnings are released (a dispute's part stays held).
    Idempotent."""
    return confirmations.auto_confirm_due()
