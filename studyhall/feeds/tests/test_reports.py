"""The report over a fixture counted by hand: a group session with a no-show, a canceled
session, a session on Sunday night in New York that is already Monday in UTC, and one just
after midnight the day after the DST change (a fixed UTC-5 would put it in the wrong week)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.test import Client

from studyhall.feeds.exports import EXPORTS
from studyhall.feeds.reports import build_report, report_csv_rows
from studyhall.feeds.tests.scene import build_scene
from studyhall.orgs.models import Term
from studyhall.testing import factories as f
from studyhall.tutoring.services.completion import complete_session

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = pytest.mark.postgres

# Sunday, March 8, 2026, 23:30 EDT (DST began at 2:00 that morning): Monday 03:30 in UTC.
SUNDAY_NIGHT = datetime(2026, 3, 9, 3, 30, tzinfo=UTC)
# Monday, March 9, 00:30 EDT: under EST it would still read Sunday 23:30.
MONDAY_EARLY = datetime(2026, 3, 9, 4, 30, tzinfo=UTC)


def completed_at(cast: Cast, start: datetime, student: Any, minutes: int) -> None:
    with time_machine.travel(start - timedelta(days=1), tick=False):
        session = f.make_session(
            org=cast.org, tutor=cast.tutor, students=[student], start=start, minutes=60
        )
    with time_machine.travel(start + timedelta(minutes=70), tick=False):
        complete_session(
            session_id=session.pk, actor=cast.tutor, minutes=minutes, recap=f.GOOD_RECAP
        )


@pytest.fixture
def fixture(cast: Cast) -> None:
    build_scene(cast)  # Mar 2 group (55 min, Maya came, Sam no-show), a request, a cancel
    completed_at(cast, SUNDAY_NIGHT, cast.student, 30)
    completed_at(cast, MONDAY_EARLY, cast.student2, 45)


def test_the_hand_counted_report(cast: Cast, fixture: None) -> None:
    report = build_report(cast.org, since=date(2026, 3, 1), until=date(2026, 3, 14)).as_dict()
    nested = ("weeks", "courses", "tutors", "programs", "budgets", "requests")
    assert {k: v for k, v in report.items() if k not in nested} == {
        "since": "2026-03-01",
        "until": "2026-03-14",
        "currency": "USD",
        "sessions": 5,
        "by_status": {"canceled": 1, "completed": 3, "scheduled": 1},
        # 55 × (tutor + Maya) + 30 × (tutor + Maya) + 45 × (tutor + Sam) = 260 minutes.
        "contact_hours": "4.33",
        # $13.75 + $7.50 + $11.25
        "spend_cents": 3250,
        "unique_students": 2,
        "repeat_students": 1,  # Maya
        # Sam missed one of the four places students had accepted on completed sessions.
        "no_show_rate": "25.0",
        "cancellation_rate": "20.0",
        # (183 + 207 + 207) / 3
        "average_recap_chars": 199,
    }
    weeks = report["weeks"]
    assert list(weeks) == ["2026-03-02", "2026-03-09"]
    assert (weeks["2026-03-02"]["sessions"], weeks["2026-03-02"]["contact_hours"]) == (4, "2.83")
    assert (weeks["2026-03-09"]["sessions"], weeks["2026-03-09"]["contact_hours"]) == (1, "1.50")
    assert report["courses"]["CHEM 110"]["contact_hours"] == "4.33"
    assert report["tutors"]["Tess Tutor"]["spend_cents"] == 3250
    # Every session here is paid by the organization's open default program.
    assert list(report["programs"]) == ["General tutoring"]
    assert report["programs"]["General tutoring"]["spend_cents"] == 3250
    # Maya's request was answered 90 minutes after she made it.
    assert report["requests"] == {
        "made": 1,
        "answered": 1,
        "median_minutes_to_answer": 90,
        "average_minutes_to_answer": 90,
    }

    # Days are New York's: the Sunday-night session is in a range ending on Sunday; the
    # Monday one is not.
    assert (
        build_report(cast.org, since=date(2026, 3, 1), until=date(2026, 3, 8)).total.sessions == 4
    )


def test_spend_by_program_and_against_budget(cast: Cast, fixture: None) -> None:
    grant = f.make_program(
        cast.org,
        name="STEM grant",
        courses=[cast.course],
        students=[cast.student],
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 6, 30),
        budget_amount=10_000,
    )
    later = f.make_program(
        cast.org, name="Fall grant", starts_on=date(2026, 9, 1), ends_on=date(2026, 12, 31)
    )
    start = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    with time_machine.travel(start - timedelta(days=1), tick=False):
        session = f.make_session(
            org=cast.org, tutor=cast.tutor, students=[cast.student], start=start, program=grant
        )
    with time_machine.travel(start + timedelta(minutes=70), tick=False):
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=40, recap=f.GOOD_RECAP)
    report = build_report(cast.org, since=date(2026, 3, 1), until=date(2026, 3, 14))
    assert {name: g.spend_cents for name, g in report.programs.items()} == {
        "General tutoring": 3250,
        "STEM grant": 1000,
    }
    assert report.as_dict()["budgets"] == [
        {
            "program_id": cast.org.programs.get(is_default=True).pk,
            "program": "General tutoring",
            "unit": "money",
            "budget": None,
            "spent": 3250,
            "reserved": 750,  # the scheduled request: 30 minutes at $15/h
            "left": None,
        },
        {
            "program_id": grant.pk,
            "program": "STEM grant",
            "unit": "money",
            "budget": 10_000,
            "spent": 1000,
            "reserved": 0,
            "left": 9000,
        },
    ]
    assert later.pk not in [p.pk for p, _ in report.budgets]
    lines = report_csv_rows(report)
    assert ["program", "STEM grant", 1, 1, 0, 0, "1.33", "10.00"] in lines
    assert ["STEM grant", "money", "100.00", "10.00", "0.00", "90.00"] in lines
    assert lines[-1] == [1, 1, 90, 90]


def test_the_report_equals_the_sessions_export(cast: Cast, fixture: None) -> None:
    report = build_report(cast.org, since=date(2026, 3, 1), until=date(2026, 3, 14))
    rows = list(csv.DictReader(io.StringIO("".join(EXPORTS["sessions"].lines(cast.org)))))
    completed = [r for r in rows if r["status"] == "completed"]
    assert report.total.sessions == len(rows)
    assert report.total.contact_minutes == sum(
        int(r["minutes_logged"]) * (1 + int(r["students_attended"])) for r in completed
    )
    assert report.total.spend_cents == sum(int(r["earnings"].replace(".", "")) for r in completed)
    assert report.total.by_status["canceled"] == sum(1 for r in rows if r["status"] == "canceled")


def test_the_reports_page_chart_csv_and_api(cast: Cast, fixture: None, client: Client) -> None:
    term = Term.objects.create(
        organization=cast.org, name="Spring 2026", start=date(2026, 3, 1), end=date(2026, 3, 14)
    )
    client.force_login(cast.admin)
    page = client.get(f"/console/{cast.org.pk}/reports/", {"term": str(term.pk)})
    assert page.status_code == 200
    html = page.content.decode()
    assert '<svg role="img" aria-labelledby="weeks-chart-title weeks-chart-desc"' in html
    assert "Sessions per week, Mar 2 to Mar 9" in html
    assert '<td><time datetime="2026-03-02">2026-03-02</time></td><td>4</td><td>2.83</td>' in html
    assert '<svg role="img" aria-labelledby="courses-chart-title courses-chart-desc"' in html
    assert "<title>CHEM 110: 4.33 h</title>" in html
    assert "<tr><td>General tutoring</td><td>5</td><td>4.33</td><td>3250</td></tr>" in html
    assert "<dd>90 min (median), 90 min (average)</dd>" in html
    assert (
        '<tr><th scope="row">General tutoring</th><td>No cap</td><td>$32.50</td>'
        "<td>$7.50</td><td>No cap</td></tr>"
    ) in html

    download = client.get(
        f"/console/{cast.org.pk}/reports/", {"term": str(term.pk), "format": "csv"}
    )
    lines = list(csv.reader(io.StringIO(download.content.decode())))
    assert lines[0][:3] == ["group", "key", "sessions"]
    assert lines[1] == ["total", "2026-03-01..2026-03-14", "5", "3", "1", "0", "4.33", "32.50"]

    bad = client.get(
        f"/console/{cast.org.pk}/reports/", {"since": "2026-03-14", "until": "2026-03-01"}
    )
    assert bad.status_code == 400
    assert "The range ends before it starts" in bad.content.decode()


def test_the_report_as_json(cast: Cast, fixture: None, client: Client) -> None:
    client.force_login(cast.admin)
    response = client.get(
        f"/api/v1/admin/orgs/{cast.org.pk}/reports", {"since": "2026-03-01", "until": "2026-03-14"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["sessions"], body["contact_hours"], body["spend_cents"]) == (5, "4.33", 3250)
    refused = client.get(
        f"/api/v1/admin/orgs/{cast.org.pk}/reports", {"since": "2026-03-14", "until": "2026-03-01"}
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_range")
