"""Yearly tax figures count what was paid in each calendar year, against the threshold for
that year (federal, and a state's where the organization set one); payroll programs get hours
and pay instead of a 1099 flag. A year no one could be paid in is not a page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from conftest import Cast
from studyhall.core.money import Money
from studyhall.ledger.payouts import build_batch, mark_paid
from studyhall.ledger.taxes import federal_threshold_cents, hours_label, tax_flags
from studyhall.ledger.tests.conftest import Complete
from studyhall.testing import factories as f

NY = ZoneInfo("America/New_York")


def paid_week(cast: Cast, complete: Complete, week: date, *, sessions: int, rate: int) -> None:
    """`sessions` 90-minute sessions in the week of `week`, built into its batch and paid."""
    f.set_rate(cast.org, cast.tutor, rate)
    for day in range(sessions):
        complete(datetime(week.year, week.month, week.day + day, 15, 0, tzinfo=NY), minutes=90)
    after = datetime(week.year, week.month, week.day + 9, 12, 0, tzinfo=UTC)
    result = build_batch(organization_id=cast.org.pk, week_start=week, actor=None, now=after)
    for payout in result.payouts:
        mark_paid(payout_id=payout.pk, actor=None)


def test_the_federal_threshold_is_2000_dollars_from_2026() -> None:
    assert federal_threshold_cents(2024) == 60_000
    assert federal_threshold_cents(2025) == 60_000
    assert federal_threshold_cents(2026) == 200_000
    assert federal_threshold_cents(2031) == 200_000


def test_a_state_threshold_adds_its_own_flag(cast: Cast) -> None:
    cast.org.state_1099_threshold_cents = 60_000
    labels = [flag.label for flag in tax_flags(cast.org, 2026, Money(60_000, "USD"))]
    assert labels == ["State 1099"]
    labels = [flag.label for flag in tax_flags(cast.org, 2026, Money(200_000, "USD"))]
    assert labels == ["Federal 1099-NEC", "State 1099"]
    assert tax_flags(cast.org, 2026, Money(59_999, "USD")) == []
    cast.org.payout_provider = "payroll"
    assert tax_flags(cast.org, 2026, Money(900_000, "USD")) == []


def test_hours_are_shown_to_the_hundredth() -> None:
    assert [hours_label(m) for m in (0, 5, 60, 95, 180)] == [
        "0.00 h",
        "0.08 h",
        "1.00 h",
        "1.58 h",
        "3.00 h",
    ]


def test_the_flag_follows_paid_amounts_not_earnings(
    client: Client, cast: Cast, complete: Complete
) -> None:
    # $900 earned in 2025 and never paid out: no form, whatever the old $600 said.
    f.set_rate(cast.org, cast.tutor, 30_000)
    complete(datetime(2025, 3, 4, 15, 0, tzinfo=NY), minutes=90)
    complete(datetime(2025, 3, 5, 15, 0, tzinfo=NY), minutes=90)
    client.force_login(cast.admin)
    html = client.get(f"/earnings/admin/{cast.org.pk}/years/2025/").content.decode()
    row = html[html.index("<tbody>") :].split("</tbody>")[0]
    assert "$900.00" in row and "1099" not in row


def test_2026_payments_need_2000_dollars_or_a_state_threshold(
    client: Client, cast: Cast, complete: Complete
) -> None:
    # Three sessions at $300/h, 90 min: $1,350 paid in 2026 (week of Mar 2, 2026).
    paid_week(cast, complete, date(2026, 3, 2), sessions=3, rate=30_000)
    client.force_login(cast.admin)
    url = f"/earnings/admin/{cast.org.pk}/years/2026/"
    row = client.get(url).content.decode().split("<tbody>")[1].split("</tbody>")[0]
    assert "$1,350.00" in row and "1099" not in row

    cast.org.state_1099_threshold_cents = 60_000
    cast.org.save()
    html = client.get(url).content.decode()
    row = html.split("<tbody>")[1].split("</tbody>")[0]
    assert '<span class="badge badge--flag">State 1099</span>' in row
    assert "Federal" not in row
    assert "need a federal 1099-NEC, and from $600.00 a state 1099" in html

    client.force_login(cast.tutor)
    html = client.get("/earnings/transactions/").content.decode()
    summary = html[html.index('id="years-heading"') :].split("</table>")[0]
    assert "$600.00 or more: expect a State 1099" in summary
    assert "Federal 1099-NEC" not in summary


def test_2000_dollars_paid_in_2026_flags_the_federal_form(
    client: Client, cast: Cast, complete: Complete
) -> None:
    # Five sessions at $300/h, 90 min: $2,250 paid.
    paid_week(cast, complete, date(2026, 3, 2), sessions=5, rate=30_000)
    client.force_login(cast.tutor)
    html = client.get("/earnings/transactions/").content.decode()
    summary = html[html.index('id="years-heading"') :].split("</table>")[0]
    assert '<td class="amount" data-label="Paid out">$2,250.00</td>' in summary
    assert "$2,000.00 or more: expect a Federal 1099-NEC" in summary


def test_payroll_programs_get_hours_and_pay_instead(
    client: Client, cast: Cast, complete: Complete
) -> None:
    cast.org.payout_provider = "payroll"
    cast.org.save()
    paid_week(cast, complete, date(2026, 3, 2), sessions=5, rate=30_000)
    client.force_login(cast.admin)
    html = client.get(f"/earnings/admin/{cast.org.pk}/years/2026/").content.decode()
    row = html.split("<tbody>")[1].split("</tbody>")[0]
    assert '<td class="amount">7.50 h</td><td>W-2</td>' in row
    assert "1099" not in row
    client.force_login(cast.tutor)
    html = client.get("/earnings/transactions/").content.decode()
    summary = html[html.index('id="years-heading"') :].split("</table>")[0]
    assert "W-2 from payroll: 7.50 h, $2,250.00" in summary
    assert "1099" not in summary


@pytest.mark.parametrize("year", ["0", "1", "1899", "3000", "99999", "2147483648"])
def test_a_year_no_one_was_paid_in_is_not_found(client: Client, cast: Cast, year: str) -> None:
    client.force_login(cast.admin)
    assert client.get(f"/earnings/admin/{cast.org.pk}/years/{year}/").status_code == 404


@pytest.mark.parametrize("org_id", ["0", "99999999999999999999999"])
def test_an_organization_that_does_not_exist_is_not_found(
    client: Client, cast: Cast, org_id: str
) -> None:
    client.force_login(cast.admin)
    assert client.get(f"/earnings/admin/{org_id}/years/2025/").status_code == 404
    assert client.get(f"/earnings/admin/{org_id}/").status_code == 404
