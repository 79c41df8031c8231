"""The payouts API: the tutor's transactions with payout info and their payouts; org admins'
batches (build, read, payroll CSV, mark paid, report a failure); and who may do what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.ledger.models import Payout, PayoutBatch
from studyhall.ledger.payouts import build_batch
from studyhall.orgs.models import Membership, Role
from studyhall.testing import factories as f
from studyhall.tutoring.services.completion import complete_session

pytestmark = pytest.mark.postgres

ApiAs = Callable[[User | None], Api]
NY = ZoneInfo("America/New_York")
AFTER_WEEK = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)


def completed(cast: Cast, start: datetime, minutes: int = 55, tutor: User | None = None) -> int:
    tutor = tutor or cast.tutor
    session = f.make_session(org=cast.org, tutor=tutor, students=[cast.student], start=start)
    with time_machine.travel(start + timedelta(minutes=70), tick=False):
        complete_session(session_id=session.pk, actor=tutor, minutes=minutes, recap=f.GOOD_RECAP)
    return session.pk


@pytest.fixture
def week(cast: Cast) -> PayoutBatch:
    cast.org.payout_provider = "payroll"
    cast.org.save()
    Membership.objects.filter(user=cast.tutor, role=Role.TUTOR).update(employee_id="E-1")
    completed(cast, datetime(2025, 3, 4, 15, 0, tzinfo=NY))
    completed(cast, datetime(2025, 3, 5, 15, 0, tzinfo=NY), 30, tutor=cast.other_tutor)
    return build_batch(
        organization_id=cast.org.pk,
        week_start=date(2025, 3, 3),
        actor=None,
        now=AFTER_WEEK,
    ).batch


def test_transactions_carry_their_payout(cast: Cast, week: PayoutBatch, api_as: ApiAs) -> None:
    payout = Payout.objects.get(tutor=cast.tutor)
    body = api_as(cast.tutor).get("/me/transactions").json()

    payout_line, earning_line = body["transactions"]
    ref = {"id": payout.pk, "status": "scheduled", "payout_date": "2025-03-21"}
    ref["week_start"] = "2025-03-03"
    assert payout_line["kind"] == "payout"
    assert (payout_line["amount_cents"], payout_line["payout"]) == (-1375, ref)
    assert earning_line["kind"] == "earning"
    assert (earning_line["amount_cents"], earning_line["payout"]) == (1375, ref)
    assert earning_line["computation"] == "55 min × $15.00/h = $13.75"
    assert (earning_line["minutes"], earning_line["hourly_rate_cents"]) == (55, 1500)
    # Filtered by day, in the caller's zone.
    narrowed = api_as(cast.tutor).get("/me/transactions", since="2025-03-05").json()
    assert [t["kind"] for t in narrowed["transactions"]] == ["payout"]


def test_my_payouts(cast: Cast, week: PayoutBatch, api_as: ApiAs) -> None:
    payout = Payout.objects.get(tutor=cast.tutor)
    body = api_as(cast.tutor).get("/me/payouts").json()
    [listed] = body["payouts"]
    assert {k: v for k, v in listed.items() if k != "events"} == {
        "id": payout.pk,
        "organization": {"id": cast.org.pk, "name": "Test College"},
        "week_start": "2025-03-03",
        "week_end": "2025-03-09",
        "payout_date": "2025-03-21",
        "amount_cents": 1375,
        "currency": "USD",
        "minutes": 55,
        "status": "scheduled",
        "provider": "payroll",
        "failure_reason": "",
    }
    assert [e["status"] for e in listed["events"]] == ["scheduled"]
    assert api_as(cast.student).get("/me/payouts").json()["payouts"] == []


def test_an_admin_reads_exports_and_pays_a_batch(
    cast: Cast, week: PayoutBatch, api_as: ApiAs
) -> None:
    admin = api_as(cast.admin)

    listed = admin.get("/payouts/batches", organization_id=cast.org.pk).json()
    detail = admin.get(f"/payouts/batches/{week.pk}").json()
    csv = admin.get(f"/payouts/batches/{week.pk}/payroll.csv")
    paid = admin.post(f"/payouts/batches/{week.pk}/mark-paid")

    [summary] = [b for b in listed["batches"] if b["id"] == week.pk]
    assert (summary["payout_count"], summary["total_cents"]) == (2, 1375 + 750)
    assert detail["total_cents"] == 2125
    assert [(p["tutor"]["employee_id"], p["amount_cents"]) for p in detail["payouts"]] == [
        ("", 750),
        ("E-1", 1375),
    ]
    assert csv.status_code == 200
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    # Employee, tutor, email, then (after the session's id) kind, minutes, rate, amount, currency.
    row = csv.content.decode().splitlines()[2].split(",")
    assert row[:3] == ["E-1", "Tess Tutor", "tutor@example.test"]
    assert row[4:9] == ["earning", "55", "15.00", "13.75", "USD"]
    assert paid.status_code == 200
    assert {p["status"] for p in paid.json()["payouts"]} == {"paid"}


def test_an_admin_builds_a_week_once(cast: Cast, api_as: ApiAs) -> None:
    completed(cast, datetime(2025, 3, 4, 15, 0, tzinfo=NY))
    admin = api_as(cast.admin)
    body = {"organization_id": cast.org.pk, "week_start": "2025-03-03"}

    first = admin.post("/payouts/batches", body)
    second = admin.post("/payouts/batches", body)

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert first.json()["payout_date"] == "2025-03-21"
    not_monday = admin.post("/payouts/batches", {**body, "week_start": "2025-03-04"})
    assert_problem(not_monday, 400, "not_a_monday")


def test_an_admin_reports_a_failed_payroll_payment(
    cast: Cast, week: PayoutBatch, api_as: ApiAs
) -> None:
    payout = Payout.objects.get(tutor=cast.tutor)
    response = api_as(cast.admin).post(f"/payouts/{payout.pk}/fail", {"reason": "Closed account"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["failure_reason"]) == (
        "failed",
        "Closed account",
    )
    assert api_as(cast.tutor).get("/me/balance").json()["balances"] == [
        {"currency": "USD", "amount_cents": 1375}
    ]


def test_payout_batches_are_for_the_orgs_admins(
    cast: Cast, week: PayoutBatch, api_as: ApiAs
) -> None:
    payout = Payout.objects.get(tutor=cast.tutor)
    for who, status, code in ((cast.tutor, 403, "forbidden"), (cast.outsider, 404, "not_found")):
        client = api_as(who)
        assert_problem(client.get(f"/payouts/batches/{week.pk}"), status, code)
        assert_problem(client.get(f"/payouts/batches/{week.pk}/payroll.csv"), status, code)
        assert_problem(client.post(f"/payouts/batches/{week.pk}/mark-paid"), status, code)
        assert_problem(client.get("/payouts/batches", organization_id=cast.org.pk), status, code)
        assert_problem(client.post(f"/payouts/{payout.pk}/fail", {"reason": "x"}), status, code)
    assert_problem(api_as(None).get(f"/payouts/batches/{week.pk}"), 401, "not_authenticated")
    assert set(week.payouts.values_list("status", flat=True)) == {"scheduled"}
