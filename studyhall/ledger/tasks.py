"""Background jobs of the ledger (see `STUDYHALL_PERIODIC_TASKS` in settings)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from studyhall.ledger import payouts


@task()
def run_payouts() -> dict[str, Any]:
    """Build last week's batches, send the payouts that are due, take back failed transfers."""
    return payouts.run_payouts().as_dict()
