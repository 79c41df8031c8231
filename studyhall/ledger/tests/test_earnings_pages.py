"""The earnings pages with payouts: the history's payout column, date filter, CSV and yearly
summary; Earnings & payouts settings; and the org admin's batches with the payroll export."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from conftest import Cast
from studyhall.ledger.exports import payroll_csv
from studyhall.ledger.models import PayoutBatch, PayoutStatus
from studyhall.ledger.payouts import build_batch, fail_payout, mark_paid
from studyhall.ledger.tests.conftest import Complete
from studyhall.orgs.models import Membership, Role
from studyhall.testing import factories as f
from studyhall.testing.html import untimed
from studyhall.tutoring.services.corrections import adjust_completion_minutes

pytestmark = pytest.mark.postgres

NY = ZoneInfo("America/New_York")
WEEK = date(2025, 3, 3)
AFTER_WEEK = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)


def payroll(cast: Cast) -> None:
    cast.org.payout_provider = "payroll"
    cast.org.save()


def employee_id(cast: Cast, user_id: int, value: str) -> None:
    Membership.objects.filter(organization=cast.org, user_id=user_id, role=Role.TUTOR).update(
        employee_id=value
    )


def batch_with_two_tutors(cast: Cast, complete: Complete) -> PayoutBatch:
    payroll(cast)
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=55)
    complete(datetime(2025, 3, 6, 15, 0, tzinfo=NY), minutes=30)
    complete(datetime(2025, 3, 5, 9, 0, tzinfo=NY), minutes=90, tutor=cast.other_tutor)
    employee_id(cast, cast.tutor.pk, "E-1001")
    return build_batch(
        organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK
    ).batch


# -- the tutor -----------------------------------------------------------------------------


def test_each_earning_shows_its_payout_date_and_state(
    client: Client, cast: Cast, complete: Complete
) -> None:
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=55)
    build_batch(organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK)
    client.force_login(cast.tutor)

    html = client.get("/earnings/transactions/").content.decode()

    table = html[html.index('<table class="history stack">') :].split("</table>")[0]
    rows = table.split("<tr ")[1:]
    payout_row, earning_row = rows
    assert "history__row--payout" in payout_row
    assert '<td class="amount amount--negative" data-label="Amount">−$13.75</td>' in payout_row
    assert "Payout for the week of Mar 3–9, 2025, due Fri Mar 21" in payout_row
    assert "history__row--earning" in earning_row
    assert (
        '<span class="payout-ref">Fri Mar 21 <span class="badge badge--scheduled">Scheduled'
        in untimed(earning_row)
    )
    assert "55 min × $15.00/h = $13.75" in earning_row


def test_the_history_filters_by_date_and_downloads_as_csv(
    client: Client, cast: Cast, complete: Complete
) -> None:
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=55)
    complete(datetime(2025, 3, 11, 15, 0, tzinfo=NY), minutes=30)
    client.force_login(cast.tutor)

    filtered = client.get("/earnings/transactions/", {"since": "2025-03-10"}).content.decode()
    assert "$7.50" in filtered and "$13.75</td>" not in filtered
    nothing = client.get("/earnings/transactions/", {"until": "2025-03-01"}).content.decode()
    assert "Nothing between those dates." in nothing

    response = client.get("/earnings/transactions/", {"format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == (
        "date,kind,description,session_id,minutes,hourly_rate,amount,currency,payout_id,"
        "payout_date,payout_status"
    )
    assert len(lines) == 3
    assert lines[1].startswith("2025-03-11 20:10,Session earning,")
    assert lines[1].endswith(",30,15.00,7.50,USD,,,")


def test_the_yearly_summary_shows_earned_and_paid(client: Client, cast: Cast, complete: Complete):
    f.set_rate(cast.org, cast.tutor, 30_000)  # $300/h: $450 a session, $900 for two
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=90)
    complete(datetime(2025, 3, 5, 15, 0, tzinfo=NY), minutes=90)
    client.force_login(cast.tutor)
    summary = client.get("/earnings/transactions/").content.decode()
    summary = summary[summary.index('id="years-heading"') :].split("</table>")[0]
    assert '<td data-label="Year">2025</td>' in summary
    assert '<td class="amount" data-label="Earned">$900.00</td>' in summary
    # Nothing was paid yet: tax forms follow payments.
    assert '<td class="amount" data-label="Paid out">$0.00</td>' in summary
    assert "1099" not in summary


def test_settings_show_the_next_payout(
    client: Client, cast: Cast, complete: Complete, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_configured"
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=55)
    build_batch(organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK)
    complete(datetime(2025, 3, 11, 15, 0, tzinfo=NY), minutes=30)
    client.force_login(cast.tutor)

    with time_machine.travel(datetime(2025, 3, 12, 12, 0, tzinfo=UTC), tick=False):
        html = client.get("/earnings/settings/").content.decode()

    assert "<h1>Earnings &amp; payouts</h1>" in html
    assert "<strong>Friday, March 21</strong> · <strong>$13.75</strong>" in untimed(html)
    assert "$7.50 earned since your last payout, expected on Friday, March 28." in untimed(html)
    assert "Connect bank account" in html


def test_settings_tell_the_tutor_what_to_fix_after_a_failure(
    client: Client, cast: Cast, complete: Complete
) -> None:
    payroll(cast)
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=55)
    [payout] = build_batch(
        organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK
    ).payouts
    fail_payout(payout_id=payout.pk, actor=cast.admin, reason="Add your direct deposit form.")
    client.force_login(cast.tutor)

    html = client.get("/earnings/settings/").content.decode()

    assert "Your payout of $13.75 due Mar 21 failed: Add your direct deposit form." in untimed(html)
    assert "pays you through its payroll" in html


def test_a_negative_balance_is_shown_as_such(client: Client, cast: Cast, complete: Complete):
    session = complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=55)
    build_batch(organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK)
    adjust_completion_minutes(
        session_id=session.pk,
        actor=cast.agent,
        minutes=5,
        reason="Logged wrong",
        idempotency_key="k",
    )
    client.force_login(cast.tutor)
    html = client.get("/earnings/transactions/").content.decode()
    assert '<span class="balance amount--negative">−$12.50</span>' in html
    assert "5 min × $15.00/h = $1.25, was 55 min = $13.75" in html


# -- the org admin -------------------------------------------------------------------------


def test_the_payroll_export_is_exact_and_stable(cast: Cast, complete: Complete) -> None:
    batch = batch_with_two_tutors(cast, complete)
    payouts = {p.tutor_id: p.pk for p in batch.payouts.all()}
    items = batch.payouts.values_list(
        "items__transfer__completion__minutes", "items__transfer__session"
    )
    sessions = dict(items)

    first = payroll_csv(batch)

    otto, tess = payouts[cast.other_tutor.pk], payouts[cast.tutor.pk]
    assert first == (
        "employee_id,name,email,session_id,what,minutes,hourly_rate,amount,currency,"
        "period_start,period_end,payout_id\r\n"
        f",Otto Tutor,otto@example.test,{sessions[90]},earning,90,15.00,22.50,USD,"
        f"2025-03-03,2025-03-09,{otto}\r\n"
        f"E-1001,Tess Tutor,tutor@example.test,{sessions[55]},earning,55,15.00,13.75,USD,"
        f"2025-03-03,2025-03-09,{tess}\r\n"
        f"E-1001,Tess Tutor,tutor@example.test,{sessions[30]},earning,30,15.00,7.50,USD,"
        f"2025-03-03,2025-03-09,{tess}\r\n"
    )
    # Later earnings and states do not change the batch's file.
    complete(datetime(2025, 3, 11, 15, 0, tzinfo=NY), minutes=30)
    fail_payout(payout_id=payouts[cast.tutor.pk], actor=cast.admin, reason="x")
    assert payroll_csv(batch) == first


def test_payroll_rows_multiply_out_to_the_cent_and_add_up_to_the_batch(
    cast: Cast, complete: Complete
) -> None:
    """At $17.99 an hour, 25 minutes is $7.50 (7.4958 rounded) and 50 minutes $14.99: a row per
    payout of 50 minutes would not multiply out to the $15.00 paid, a row per session does. A
    correction from 55 to 40 minutes is the old log taken back and the new one paid."""
    payroll(cast)
    cast.org.default_hourly_rate_cents = 1799
    cast.org.save()
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=25)
    complete(datetime(2025, 3, 5, 15, 0, tzinfo=NY), minutes=25)
    corrected = complete(datetime(2025, 3, 6, 15, 0, tzinfo=NY), minutes=55)
    with time_machine.travel(datetime(2025, 3, 7, 12, 0, tzinfo=UTC), tick=False):
        adjust_completion_minutes(
            session_id=corrected.pk,
            actor=cast.agent,
            minutes=40,
            reason="The session ended early.",
            idempotency_key="fix-1",
        )
    batch = build_batch(
        organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK
    ).batch

    lines = payroll_csv(batch).splitlines()[1:]
    rows = [line.split(",") for line in lines]

    assert [(r[4], r[5], r[6], r[7]) for r in rows] == [
        ("earning", "25", "17.99", "7.50"),
        ("earning", "25", "17.99", "7.50"),
        ("earning", "55", "17.99", "16.49"),
        ("correction: taken back", "-55", "17.99", "-16.49"),
        ("correction: paid as corrected", "40", "17.99", "11.99"),
    ]
    for row in rows:
        minutes, rate = int(row[5]), round(float(row[6]) * 100)
        product = (abs(minutes) * rate * 2 + 60) // 120  # half up, to the cent
        assert round(float(row[7]) * 100) == (product if minutes > 0 else -product)
    total = sum(round(float(r[7]) * 100) for r in rows)
    assert total == sum(batch.payouts.values_list("amount_cents", flat=True)) == 2699


def test_an_admin_downloads_and_marks_a_batch_paid(
    client: Client, cast: Cast, complete: Complete
) -> None:
    batch = batch_with_two_tutors(cast, complete)
    client.force_login(cast.admin)

    page = client.get(f"/earnings/admin/batches/{batch.pk}/").content.decode()
    assert "Payouts for the week of Mar 3–9, 2025" in page
    assert (
        "Payout date <strong>Friday, March 21, 2025</strong> · 2 payouts · <strong>$43.75"
        in untimed(page)
    )
    assert "1 tutor in this batch has no employee id" in page
    download = client.get(f"/earnings/admin/batches/{batch.pk}/payroll.csv")
    again = client.get(f"/earnings/admin/batches/{batch.pk}/payroll.csv")
    assert download["Content-Disposition"] == (
        f'attachment; filename="payroll-{cast.org.slug}-week-of-2025-03-03.csv"'
    )
    assert download.content == again.content == payroll_csv(batch).encode()

    done = client.post(f"/earnings/admin/batches/{batch.pk}/mark-paid/", follow=True)

    assert "Marked 2 payout(s) paid." in done.content.decode()
    assert set(batch.payouts.values_list("status", flat=True)) == {PayoutStatus.PAID}


def test_an_admin_builds_last_weeks_batch(client: Client, cast: Cast, complete: Complete):
    payroll(cast)
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=55)
    client.force_login(cast.admin)
    with time_machine.travel(AFTER_WEEK, tick=False):
        home = client.get("/earnings/admin/", follow=True).content.decode()
        assert "Build payouts for the week of Mar 3–9, 2025" in home
        built = client.post(f"/earnings/admin/{cast.org.pk}/run/", follow=True).content.decode()
        assert "Built the payouts for the week of Mar 3–9, 2025: 1 payout(s)." in built
        again = client.post(f"/earnings/admin/{cast.org.pk}/run/", follow=True).content.decode()
        assert "The week of Mar 3–9, 2025 was already built." in again
    assert PayoutBatch.objects.filter(organization=cast.org).count() == 1


def test_payout_admin_pages_are_for_the_orgs_admins(
    client: Client, cast: Cast, complete: Complete
) -> None:
    batch = batch_with_two_tutors(cast, complete)
    urls = [
        f"/earnings/admin/{cast.org.pk}/",
        f"/earnings/admin/batches/{batch.pk}/",
        f"/earnings/admin/batches/{batch.pk}/payroll.csv",
        f"/earnings/admin/{cast.org.pk}/years/2025/",
    ]
    client.force_login(cast.tutor)
    assert [client.get(url).status_code for url in urls] == [403] * 4
    assert client.post(f"/earnings/admin/batches/{batch.pk}/mark-paid/").status_code == 403
    client.force_login(cast.outsider)
    assert [client.get(url).status_code for url in urls] == [404] * 4
    assert client.get("/earnings/admin/").status_code == 403
    assert set(batch.payouts.values_list("status", flat=True)) == {PayoutStatus.SCHEDULED}


def test_the_yearly_totals_per_tutor(client: Client, cast: Cast, complete: Complete) -> None:
    f.set_rate(cast.org, cast.tutor, 40_000)
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=90)
    complete(datetime(2025, 3, 5, 15, 0, tzinfo=NY), minutes=90)
    complete(datetime(2025, 3, 5, 9, 0, tzinfo=NY), minutes=30, tutor=cast.other_tutor)
    result = build_batch(organization_id=cast.org.pk, week_start=WEEK, actor=None, now=AFTER_WEEK)
    for payout in result.payouts:
        if payout.tutor_id == cast.tutor.pk:
            mark_paid(payout_id=payout.pk, actor=None)
    client.force_login(cast.admin)
    html = client.get(f"/earnings/admin/{cast.org.pk}/years/2025/").content.decode()
    rows = html[html.index("<tbody>") :].split("<tr>")[1:]
    assert "Otto Tutor" in rows[0] and "$7.50" in rows[0] and "1099-NEC" not in rows[0]
    assert "Tess Tutor" in rows[1] and "$1,200.00" in rows[1] and "1099-NEC" in rows[1]
