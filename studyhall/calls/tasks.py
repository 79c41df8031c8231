"""Background jobs of the classroom."""

from django_tasks import task

from studyhall.calls import services


@task()
def expire_silent_connections() -> int:
    """Every minute: end the presence of tabs that stopped heartbeating, everywhere."""
    return services.expire_everywhere()
