"""Weekly payouts: week boundaries on the organization's clock, the payout date rule, building
a batch once, the minimum, and the payroll lifecycle — each money move checked to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction

from conftest import Cast
from studyhall.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import (
    Account,
    AccountKind,
    Payout,
    PayoutBatch,
    PayoutEvent,
    PayoutItem,
    PayoutStatus,
    Transfer,
    TransferKind,
)
from studyhall.ledger.payouts import (
    build_batch,
    fail_payout,
    mark_batch_paid,
    run_payouts,
)
from studyhall.ledger.selectors import balance_cents
from studyhall.ledger.tests.conftest import Complete
from studyhall.ledger.weeks import (
    last_finished_week,
    payout_date_for,
    week_bounds,
    week_start_of,
)
from studyhall.notifications.models import Kind, Notification
from studyhall.orgs.models import Membership, Role
from studyhall.testing import factories as f

pytestmark = pytest.mark.postgres

NY = ZoneInfo("America/New_York")
WEEK = date(2025, 3, 3)  # Monday; daylight saving time begins on its Sunday, March 9
NEXT_WEEK = date(2025, 3, 10)
AFTER_WEEK = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
AFTER_NEXT_WEEK = datetime(2025, 3, 19, 12, 0, tzinfo=UTC)


def balance(cast: Cast, kind: AccountKind, user_id: Any = None) -> int:
    account = Account.objects.filter(kind=kind, organization=cast.org, user_id=user_id).first()
    return balance_cents(account) if account else 0


def tutor_balance(cast: Cast, user_id: int | None = None) -> int:
    return balance(cast, AccountKind.TUTOR_EARNINGS, user_id or cast.tutor.pk)


def payroll(cast: Cast) -> None:
    cast.org.payout_provider = "payroll"
    cast.org.save()


def assert_ledger_ok() -> None:
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115


# -- weeks and dates -----------------------------------------------------------------------


def test_a_week_runs_monday_to_sunday_on_the_organizations_clock() -> None:
    sunday_late = datetime(2025, 3, 9, 23, 30, tzinfo=NY)
    assert sunday_late.astimezone(UTC).weekday() == 0  # already Monday in UTC
    assert week_start_of(sunday_late, NY) == WEEK
    assert week_start_of(datetime(2025, 3, 10, 0, 0, tzinfo=NY), NY) == NEXT_WEEK
    assert week_start_of(datetime(2025, 3, 3, 0, 0, tzinfo=NY), NY) == WEEK
    assert week_start_of(datetime(2025, 3, 3, 4, 59, tzinfo=UTC), NY) == date(2025, 2, 24)
    start, end = week_bounds(WEEK, NY)
    assert (start.isoformat(), end.isoformat()) == (
        "2025-03-03T00:00:00-05:00",
        "2025-03-10T00:00:00-04:00",
    )
    # The clocks sprang forward on Sunday: the week is an hour short.
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=167)
    with pytest.raises(ValueError, match="not a Monday"):
        week_bounds(date(2025, 3, 4), NY)


def test_the_payout_date_is_the_friday_twelve_days_after_the_week() -> None:
    assert payout_date_for(WEEK, delay_days=12) == date(2025, 3, 21)
    assert payout_date_for(WEEK, delay_days=12).weekday() == 4
    for week in (date(2025, 12, 29), date(2024, 2, 26), date(2026, 6, 1)):
        paid_on = payout_date_for(week, delay_days=12)
        assert paid_on.weekday() == 4
        assert paid_on - (week + timedelta(days=6)) == timedelta(days=12)


def test_the_last_finished_week_is_the_one_before_this_one() -> None:
    assert last_finished_week(datetime(2025, 3, 10, 3, 59, tzinfo=UTC), NY) == date(2025, 2, 24)
    assert last_finished_week(datetime(2025, 3, 10, 4, 0, tzinfo=UTC), NY) == WEEK
    assert last_finished_week(datetime(2025, 3, 16, 23, 0, tzinfo=NY), NY) == WEEK


def test_a_session_at_2330_sunday_local_time_is_paid_with_that_week(
    cast: Cast, complete: Complete
) -> None:
    sunday = complete(datetime(2025, 3, 9, 23, 30, tzinfo=NY), minutes=55)
    monday = complete(datetime(2025, 3, 10, 0, 30, tzinfo=NY), minutes=30)

    first = build_batch(organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK)

    assert first.created
    assert (first.batch.week_start, first.batch.payout_date) == (WEEK, date(2025, 3, 21))
    [payout] = first.payouts
    assert (payout.tutor, payout.amount_cents, payout.minutes) == (cast.tutor, 1375, 55)
    assert [i.transfer.session_id for i in payout.items.all()] == [sunday.pk]
    second = build_batch(
        organization_id=cast.org.pk, week_start=NEXT_WEEK, actor=None, now=AFTER_NEXT_WEEK
    )
    [later] = second.payouts
    assert (later.amount_cents, later.minutes, second.batch.payout_date) == (
        750,
        30,
        date(2025, 3, 28),
    )
    assert [i.transfer.session_id for i in later.items.all()] == [monday.pk]
    assert_ledger_ok()


# -- building a batch ----------------------------------------------------------------------


def test_a_batch_gathers_each_tutors_week_into_one_payout(cast: Cast, complete: Complete) -> None:
    complete(datetime(2025, 3, 3, 15, 0, tzinfo=NY), minutes=55)
    complete(datetime(2025, 3, 5, 15, 0, tzinfo=NY), minutes=30)
    complete(datetime(2025, 3, 6, 9, 0, tzinfo=NY), minutes=90, tutor=cast.other_tutor)
    earnings = list(Transfer.objects.filter(kind=TransferKind.EARNING).order_by("id"))

    result = build_batch(
        organization_id=cast.org.pk, week_start=WEEK, actor=cast.admin, now=AFTER_WEEK
    )

    assert result.created
    payouts = {p.tutor_id: p for p in result.payouts}
    assert {t: (p.amount_cents, p.minutes) for t, p in payouts.items()} == {
        cast.tutor.pk: (1375 + 750, 85),
        cast.other_tutor.pk: (2250, 90),
    }
    tess = payouts[cast.tutor.pk]
    assert [(i.transfer_id, i.amount_cents, i.minutes) for i in tess.items.all()] == [
        (earnings[0].pk, 1375, 55),
        (earnings[1].pk, 750, 30),
    ]
    assert tess.status == PayoutStatus.SCHEDULED
    assert (tess.transfer.kind, tess.transfer.amount_cents) == (TransferKind.PAYOUT, 2125)
    assert [(e.status, e.transfer_id, e.actor) for e in tess.events.all()] == [
        (PayoutStatus.SCHEDULED, tess.transfer_id, cast.admin)
    ]
    # The money left the tutors' balances for the pending-payouts account.
    assert tutor_balance(cast) == 0
    assert tutor_balance(cast, cast.other_tutor.pk) == 0
    assert balance(cast, AccountKind.PAYOUTS_PENDING) == 2125 + 2250
    assert balance(cast, AccountKind.PROGRAM_BUDGET) == -(2125 + 2250)
    audit = AuditEntry.objects.filter(action__startswith="payout.").order_by("id")
    assert [a.action for a in audit] == ["payout.scheduled", "payout.scheduled"]
    built = AuditEntry.objects.get(action="payout_batch.built")
    assert (built.actor, built.data["payouts"], built.data["total_cents"]) == (
        cast.admin,
        2,
        4375,
    )
    assert_ledger_ok()


def test_building_a_week_twice_creates_nothing_new(cast: Cast, complete: Complete) -> None:
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY))
    build_batch(organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK)
    counts = (PayoutBatch.objects.count(), Payout.objects.count(), Transfer.objects.count())

    again = build_batch(organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK)
    summary = run_payouts(now=AFTER_WEEK)

    assert (again.created, again.payouts) == (False, [])
    # Only the other organization's (empty) week was still to build.
    assert summary.batches_built == [
        PayoutBatch.objects.get(organization=cast.other_org, week_start=WEEK).pk
    ]
    counts = (counts[0] + 1, *counts[1:])
    assert (PayoutBatch.objects.count(), Payout.objects.count(), Transfer.objects.count()) == counts
    assert counts == (2, 1, 2)


def test_an_earning_is_in_at_most_one_payout(cast: Cast, complete: Complete) -> None:
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY))
    [payout] = build_batch(
        organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK
    ).payouts
    item = payout.items.get()

    # A later week finds nothing left to pay: the earning is taken.
    later = build_batch(
        organization_id=cast.org.pk, week_start=NEXT_WEEK, actor=None, now=AFTER_NEXT_WEEK
    )
    assert later.payouts == []
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutItem.objects.create(payout=payout, transfer=item.transfer, amount_cents=1375)


def test_a_week_is_built_only_after_it_ends(cast: Cast) -> None:
    with pytest.raises(Conflict) as refused:
        build_batch(
            organization_id=cast.org.pk,
            week_start=WEEK,
            actor=None,
            now=datetime(2025, 3, 10, 3, 59, tzinfo=UTC),  # 23:59 Sunday in New York
        )
    assert refused.value.code == "week_not_finished"
    with pytest.raises(InvalidInput) as not_monday:
        build_batch(
            organization_id=cast.org.pk, week_start=date(2025, 3, 4), actor=None, now=AFTER_WEEK
        )
    assert not_monday.value.code == "not_a_monday"
    assert PayoutBatch.objects.count() == 0


def test_only_org_admins_build_a_batch(cast: Cast) -> None:
    with pytest.raises(Forbidden):
        build_batch(organization_id=cast.org.pk, week_start=WEEK, actor=cast.tutor, now=AFTER_WEEK)
    with pytest.raises(NotFound):
        build_batch(
            organization_id=cast.org.pk, week_start=WEEK, actor=cast.outsider, now=AFTER_WEEK
        )
    assert PayoutBatch.objects.count() == 0


def test_a_payout_below_the_minimum_rolls_into_the_next_week(
    cast: Cast, complete: Complete
) -> None:
    f.set_rate(cast.org, cast.tutor, 1000)  # 5 min at $10.00/h = $0.83
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=5)

    first = build_batch(organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK)
    assert first.payouts == []
    assert tutor_balance(cast) == 83

    complete(datetime(2025, 3, 11, 15, 0, tzinfo=NY), minutes=10)  # $1.67
    second = build_batch(
        organization_id=cast.org.pk, week_start=NEXT_WEEK, actor=None, now=AFTER_NEXT_WEEK
    )
    [payout] = second.payouts
    assert (payout.amount_cents, payout.minutes, payout.items.count()) == (83 + 167, 15, 2)
    assert tutor_balance(cast) == 0
    assert_ledger_ok()


def test_the_periodic_job_builds_the_last_finished_week(cast: Cast, complete: Complete) -> None:
    payroll(cast)
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY))

    summary = run_payouts(now=AFTER_WEEK)

    batch = PayoutBatch.objects.get(organization=cast.org)
    assert batch.pk in summary.batches_built
    assert (batch.week_start, batch.provider) == (WEEK, "payroll")
    # The other organization's (empty) week is recorded too.
    assert PayoutBatch.objects.filter(organization=cast.other_org, week_start=WEEK).exists()


# -- payroll lifecycle ---------------------------------------------------------------------


def payroll_payout(cast: Cast, complete: Complete) -> Payout:
    payroll(cast)
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY))
    [payout] = build_batch(
        organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK
    ).payouts
    return payout


def test_an_admin_marks_a_payroll_batch_paid(
    cast: Cast, complete: Complete, django_capture_on_commit_callbacks
) -> None:
    payout = payroll_payout(cast, complete)

    with django_capture_on_commit_callbacks(execute=True):
        paid = mark_batch_paid(batch_id=payout.batch_id, actor=cast.admin)

    assert [p.pk for p in paid] == [payout.pk]
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert [e.status for e in payout.events.all()] == ["scheduled", "paid"]
    settled = payout.events.get(status="paid").transfer
    assert settled is not None
    assert (settled.kind, settled.amount_cents) == (TransferKind.PAYOUT_SETTLED, 1375)
    assert balance(cast, AccountKind.PAYOUTS_PENDING) == 0
    assert balance(cast, AccountKind.PAID_OUT) == 1375
    assert [m.subject for m in mail.outbox][-1] == "Your Studyhall payout was paid"
    # The email says why it came, and where the payout details are.
    assert mail.outbox[-1].body.endswith(
        f"You get this email because you tutor for {cast.org.name} and it pays your earnings "
        "out to you. Your payout details are in Settings → Earnings & payouts: "
        "http://localhost:8000/earnings/settings/\n"
    )
    paid_notice = Notification.objects.get(user=cast.tutor, event="payout_paid")
    assert (paid_notice.kind, paid_notice.title, paid_notice.link) == (
        Kind.PAYOUT,
        "Your payout of $13.75 from Test College was paid.",
        "/earnings/transactions/",
    )
    # Again: nothing more happens.
    assert mark_batch_paid(batch_id=payout.batch_id, actor=cast.admin) == []
    assert PayoutEvent.objects.count() == 2
    assert_ledger_ok()


def test_only_the_orgs_admins_mark_a_batch_paid(cast: Cast, complete: Complete) -> None:
    payout = payroll_payout(cast, complete)
    with pytest.raises(Forbidden):
        mark_batch_paid(batch_id=payout.batch_id, actor=cast.tutor)
    with pytest.raises(NotFound):
        mark_batch_paid(batch_id=payout.batch_id, actor=cast.outsider)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SCHEDULED


def test_a_stripe_batch_is_not_marked_paid_by_hand(cast: Cast, complete: Complete) -> None:
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY))
    batch = build_batch(
        organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK
    ).batch
    with pytest.raises(Conflict) as refused:
        mark_batch_paid(batch_id=batch.pk, actor=cast.admin)
    assert refused.value.code == "not_a_payroll_batch"


def test_a_failed_payroll_payout_returns_to_the_balance_and_the_next_payout(
    cast: Cast, complete: Complete, django_capture_on_commit_callbacks
) -> None:
    payout = payroll_payout(cast, complete)
    Membership.objects.filter(user=cast.tutor, role=Role.TUTOR).update(employee_id="E-7")

    with (
        django_capture_on_commit_callbacks(execute=True),
        time_machine.travel(datetime(2025, 3, 14, 12, 0, tzinfo=UTC), tick=False),
    ):
        fail_payout(payout_id=payout.pk, actor=cast.admin, reason="Not on this term's payroll")

    payout.refresh_from_db()
    assert (payout.status, payout.failure_reason) == ("failed", "Not on this term's payroll")
    returned = payout.events.get(status="failed").transfer
    assert returned is not None
    assert (returned.kind, returned.amount_cents) == (TransferKind.PAYOUT_RETURNED, 1375)
    assert tutor_balance(cast) == 1375
    assert balance(cast, AccountKind.PAYOUTS_PENDING) == 0
    assert "Not on this term's payroll" in mail.outbox[-1].body
    assert Notification.objects.get(user=cast.tutor, event="payout_failed").title == (
        "Your payout of $13.75 from Test College failed; see what to do."
    )
    # Returned during the next week, the money goes out with that week's payout, hours too.
    complete(datetime(2025, 3, 11, 15, 0, tzinfo=NY), minutes=30)
    [next_payout] = build_batch(
        organization_id=cast.org.pk, week_start=NEXT_WEEK, actor=None, now=AFTER_NEXT_WEEK
    ).payouts
    assert (next_payout.amount_cents, next_payout.minutes) == (1375 + 750, 55 + 30)
    assert_ledger_ok()
    # Failing it again changes nothing.
    fail_payout(payout_id=payout.pk, actor=cast.admin, reason="Again")
    assert Transfer.objects.filter(kind=TransferKind.PAYOUT_RETURNED).count() == 1


def test_a_payout_cannot_be_paid_after_it_failed(cast: Cast, complete: Complete) -> None:
    payout = payroll_payout(cast, complete)
    fail_payout(payout_id=payout.pk, actor=cast.admin, reason="Bounced")
    assert mark_batch_paid(batch_id=payout.batch_id, actor=cast.admin) == []
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED
    assert_ledger_ok()


def test_a_paid_payout_that_bounces_is_returned_from_the_paid_account(
    cast: Cast, complete: Complete
) -> None:
    payout = payroll_payout(cast, complete)
    mark_batch_paid(batch_id=payout.batch_id, actor=cast.admin)

    fail_payout(payout_id=payout.pk, actor=cast.admin, reason="Paycheck returned")

    assert balance(cast, AccountKind.PAID_OUT) == 0
    assert tutor_balance(cast) == 1375
    assert_ledger_ok()
