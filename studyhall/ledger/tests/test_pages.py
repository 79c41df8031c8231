"""The Transaction history page and the balance in the page header."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.orgs.models import Role
from studyhall.testing import factories as f
from studyhall.testing.html import untimed
from studyhall.tutoring.services.completion import complete_session

NOW = datetime(2025, 11, 20, 15, 0, tzinfo=UTC)
URL = "/earnings/transactions/"


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def html_of(client: Client, user: User) -> str:
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def completed(cast: Cast, *, minutes: int = 55, hours_ago: int = 2) -> int:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=NOW - timedelta(hours=hours_ago),
    )
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=minutes, recap=f.GOOD_RECAP)
    return session.pk


def test_url_name() -> None:
    assert reverse("ledger:transactions") == URL


def history_rows(html: str) -> list[str]:
    main = html[html.index("<main") :]
    table = main[main.index('<table class="history stack">') : main.index("</table>")]
    return table.split("<tr ")[1:]  # after the header row


def test_history_lists_each_earning_with_its_session(client: Client, cast: Cast, frozen: None):
    first = completed(cast, minutes=55, hours_ago=30)
    f.set_rate(cast.org, cast.tutor, 1799)
    second = completed(cast, minutes=25, hours_ago=3)

    html = html_of(client, cast.tutor)

    main = html[html.index("<main") :]
    assert re.search(r'<span class="balance">\$21\.25</span>', main)  # 1375 + 750 cents
    rows = history_rows(html)
    assert len(rows) == 2
    # Newest first, each with its session, description, computation and amount.
    assert f'href="/sessions/{second}/">CHEM 110, Nov 20</a>' in untimed(rows[0])
    assert '<td class="amount" data-label="Amount">$7.50</td>' in rows[0]
    assert "25 min at $17.99/h" in rows[0]
    assert "25 min × $17.99/h = $7.50" in rows[0]
    assert f'href="/sessions/{first}/">CHEM 110, Nov 19</a>' in untimed(rows[1])
    assert '<td class="amount" data-label="Amount">$13.75</td>' in rows[1]
    assert "55 min × $15.00/h = $13.75" in rows[1]
    assert "Nov 20, 2025, 3:00 PM UTC" in rows[0]  # the viewer's zone (UTC by default)
    # Not in a payout yet.
    assert '<span class="hint">Next payout</span>' in rows[0]


def test_history_shows_dates_in_the_viewers_zone(client: Client, cast: Cast, frozen: None):
    completed(cast)
    cast.tutor.time_zone = "America/New_York"
    cast.tutor.save()
    assert "Nov 20, 2025, 10:00 AM EST" in html_of(client, cast.tutor)


def test_history_of_someone_who_has_not_earned(client: Client, cast: Cast, frozen: None):
    html = html_of(client, cast.tutor)
    assert "No earnings yet — completed sessions appear here." in html
    assert "<table" not in html
    # Another tutor's earnings are not theirs.
    completed(cast)
    assert "No earnings yet" in html_of(client, cast.other_tutor)


def test_history_query_count_does_not_grow(
    client: Client, cast: Cast, frozen: None, django_assert_num_queries
):
    client.force_login(cast.tutor)
    for hours in range(2, 4):
        completed(cast, hours_ago=hours)
    # session, user, entries with everything they explain, balances (page and header), and
    # the yearly summary (organizations, earnings, payouts).
    with django_assert_num_queries(9):
        assert client.get(URL).status_code == 200
    for hours in range(4, 14):
        completed(cast, hours_ago=hours)
    with django_assert_num_queries(9):
        html = client.get(URL).content.decode()
    assert html.count('<td class="amount" data-label="Amount">$13.75</td>') == 12


def test_history_needs_sign_in(client: Client, db: None):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={URL}"


def test_header_balance_follows_earnings(client: Client, cast: Cast, frozen: None):
    def header(user: User) -> str:
        html = html_of(client, user)
        return html[html.index("<header") : html.index("</header>")]

    assert re.search(r'class="site-balance".*\$0\.00', header(cast.tutor), re.S)
    completed(cast)
    assert re.search(r'class="site-balance".*\$13\.75', header(cast.tutor), re.S)
    assert "site-balance" not in header(cast.student)  # not a tutor: no balance
    # A peer tutor who is also a student sees theirs.
    f.add_member(cast.org, cast.student2, Role.TUTOR)
    assert re.search(r'class="site-balance".*\$0\.00', header(cast.student2), re.S)
