"""The weekly payout batch run twice at the same moment — two schedulers, two workers, each
with its own PostgreSQL connection — creates each payout once and moves each cent once.

PostgreSQL only: there the two transactions truly overlap, and the unique batch row is what
makes the second one find the first one's work instead of repeating it.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections

from studyhall.ledger.models import (
    Account,
    AccountKind,
    Payout,
    PayoutBatch,
    PayoutItem,
    Transfer,
    TransferKind,
)
from studyhall.ledger.payouts import RunSummary, run_payouts
from studyhall.testing import factories as f
from studyhall.tutoring.services.completion import complete_session

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="overlapping transactions are proven on PostgreSQL (DATABASE_URL=postgres://…)",
    ),
]

NY = ZoneInfo("America/New_York")
AFTER_WEEK = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
RUNNERS = 4
TIMEOUT = 30.0


def complete(cast: Cast, start: datetime, minutes: int, tutor_index: int) -> None:
    tutor = [cast.tutor, cast.other_tutor][tutor_index]
    session = f.make_session(org=cast.org, tutor=tutor, students=[cast.student], start=start)
    with time_machine.travel(start + timedelta(minutes=70), tick=False):
        complete_session(session_id=session.pk, actor=tutor, minutes=minutes, recap=f.GOOD_RECAP)


def run_together(count: int) -> list[RunSummary]:
    barrier = threading.Barrier(count)
    results: list[RunSummary | None] = [None] * count
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            results[index] = run_payouts(now=AFTER_WEEK)
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,), name=f"batch-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not any(t.is_alive() for t in threads), "a batch run never finished (deadlock?)"
    assert not failures, failures
    return [r for r in results if r is not None]


def test_concurrent_batch_runs_create_each_payout_once(transactional_db: None, cast: Cast) -> None:
    cast.org.payout_provider = "payroll"
    cast.org.save()
    for day, minutes, who in ((3, 55, 0), (4, 30, 0), (5, 90, 1), (6, 15, 1)):
        complete(cast, datetime(2025, 3, day, 15, 0, tzinfo=NY), minutes, who)

    summaries = run_together(RUNNERS)

    built = [batch for s in summaries for batch in s.batches_built]
    batches = PayoutBatch.objects.filter(week_start=date(2025, 3, 3))
    assert sorted(built) == sorted(batches.values_list("pk", flat=True))  # each built once
    assert batches.count() == 2  # this organization's and the other's
    payouts = {p.tutor_id: p.amount_cents for p in Payout.objects.all()}
    assert payouts == {cast.tutor.pk: 1375 + 750, cast.other_tutor.pk: 2250 + 375}
    assert PayoutItem.objects.count() == 4
    assert Transfer.objects.filter(kind=TransferKind.PAYOUT).count() == 2
    pending = Account.objects.get(organization=cast.org, kind=AccountKind.PAYOUTS_PENDING)
    assert pending.balance_cents == 1375 + 750 + 2250 + 375
    assert set(
        Account.objects.filter(kind=AccountKind.TUTOR_EARNINGS).values_list(
            "balance_cents", flat=True
        )
    ) == {0}
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_a_batch_racing_a_completion_loses_no_cent(transactional_db: None, cast: Cast) -> None:
    """A completion committing while the batch runs is either in this week's payout or left
    in the balance for the next — never both, never neither."""
    cast.org.payout_provider = "payroll"
    cast.org.save()
    complete(cast, datetime(2025, 3, 4, 15, 0, tzinfo=NY), 55, 0)
    late = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student2],
        start=datetime(2025, 3, 9, 20, 0, tzinfo=NY),
    )
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def completer() -> None:
        try:
            with time_machine.travel(datetime(2025, 3, 10, 12, 0, tzinfo=UTC), tick=False):
                barrier.wait(timeout=TIMEOUT)
                complete_session(
                    session_id=late.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP
                )
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)
        finally:
            connections.close_all()

    def batcher() -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            run_payouts(now=AFTER_WEEK)
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=completer), threading.Thread(target=batcher)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not failures, failures
    payout = Payout.objects.get(tutor=cast.tutor)
    balance = Account.objects.get(user=cast.tutor).balance_cents
    assert payout.amount_cents in (1375, 1375 + 750)
    assert payout.amount_cents + balance == 1375 + 750
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115
