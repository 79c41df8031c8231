"""Exports in Knack's shape: each file's columns, and its rows checked cell by cell."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import pytest
from django.test import Client

from studyhall.feeds.exports import EXPORTS
from studyhall.feeds.tests.scene import Scene, build_scene

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = pytest.mark.postgres


@pytest.fixture
def scene(cast: Cast) -> Scene:
    return build_scene(cast)


def rows_of(name: str, cast: Cast) -> list[dict[str, str]]:
    text = "".join(EXPORTS[name].lines(cast.org))
    return list(csv.DictReader(io.StringIO(text)))


def header_of(name: str, cast: Cast) -> list[str]:
    return next(csv.reader(io.StringIO(next(iter(EXPORTS[name].lines(cast.org))))))


def test_every_export_has_its_stable_columns(cast: Cast) -> None:
    assert {name: header_of(name, cast) for name in EXPORTS} == {
        "sessions": [
            "session_id", "status", "mode", "origin", "course_code", "course_title",
            "tutor_id", "tutor_school_id", "tutor_name", "tutor_email", "tutor_time_zone",
            "student_ids", "student_school_ids", "student_names", "student_emails",
            "student_states", "students_attended", "scheduled_start_utc", "scheduled_end_utc",
            "planned_minutes", "location", "call_started_at_utc", "call_ended_at_utc",
            "ended_at_utc", "minutes_logged", "earnings", "currency", "program",
            "recurring_series", "cancel_reason", "created_at_utc", "minutes_as_logged",
            "earnings_as_logged", "corrections",
        ],
        "users": [
            "user_id", "school_id", "name", "email", "roles", "time_zone", "active",
            "status", "employee_id", "courses_enrolled", "courses_tutored", "joined_at_utc",
        ],
        "tutor_requests": [
            "request_id", "status", "modality", "course_code", "student_id",
            "student_school_id", "student_name", "student_email", "tutor_id",
            "tutor_school_id", "tutor_name", "tutor_email", "tutor_time_zone",
            "requested_at_utc", "requested_start_utc", "planned_minutes", "notified_count",
            "responded_count", "answer", "answered_at_utc", "minutes_to_answer",
        ],
        "recaps": [
            "session_id", "course_code", "tutor_id", "tutor_school_id", "tutor_name",
            "tutor_email", "tutor_time_zone", "student_school_ids", "student_names",
            "scheduled_start_utc", "completed_at_utc", "minutes_logged", "topics_covered",
            "tutee_progress", "next_steps", "recap_chars", "logged_by_support",
        ],
        "transactions": [
            "transaction_id", "created_at_utc", "kind", "amount", "currency", "tutor_amount",
            "tutor_id", "tutor_school_id", "tutor_name", "tutor_email", "tutor_time_zone",
            "session_id", "payout_id", "description",
        ],
        "payouts": [
            "payout_id", "tutor_id", "tutor_school_id", "tutor_employee_id", "tutor_name",
            "tutor_email", "tutor_time_zone", "week_start", "week_end", "payout_date",
            "provider", "status", "amount", "currency", "minutes", "failure_code",
            "failure_reason", "created_at_utc",
        ],
    }  # fmt: skip


def test_sessions_csv(cast: Cast, scene: Scene) -> None:
    rows = rows_of("sessions", cast)
    assert [r["session_id"] for r in rows] == [
        str(scene.group.pk),
        str(scene.request.pk),
        str(scene.canceled.pk),
    ]
    s, c = cast.student, cast.student2
    assert rows[0] == {
        "session_id": str(scene.group.pk),
        "status": "completed",
        "mode": "in_person",
        "origin": "invitation",
        "course_code": "CHEM 110",
        "course_title": "General Chemistry",
        "tutor_id": str(cast.tutor.pk),
        "tutor_school_id": "T-2001",
        "tutor_name": "Tess Tutor",
        "tutor_email": "tutor@example.test",
        "tutor_time_zone": "America/Chicago",
        "student_ids": f"{s.pk};{c.pk}",
        "student_school_ids": "S-1001;S-1002",
        "student_names": "Maya Chen;Sam Lee",
        "student_emails": "maya@example.test;sam@example.test",
        "student_states": "accepted;no_show",
        "students_attended": "1",
        "scheduled_start_utc": "2026-03-02T15:00:00Z",
        "scheduled_end_utc": "2026-03-02T16:00:00Z",
        "planned_minutes": "60",
        "location": "Library room 2",
        "call_started_at_utc": "",
        "call_ended_at_utc": "",
        "ended_at_utc": "2026-03-02T16:10:00Z",
        "minutes_logged": "55",
        "earnings": "13.75",
        "currency": "USD",
        "program": "General tutoring",
        "recurring_series": "",
        "cancel_reason": "",
        "created_at_utc": "2026-03-01T15:00:00Z",
        "minutes_as_logged": "55",
        "earnings_as_logged": "13.75",
        "corrections": "",
    }
    assert rows[2]["status"] == "canceled"
    assert rows[2]["cancel_reason"] == "Tutor is ill"
    assert rows[2]["students_attended"] == ""
    assert rows[2]["earnings"] == ""
    assert rows[2]["minutes_logged"] == ""


def test_users_csv(cast: Cast, scene: Scene) -> None:
    rows = {r["email"]: r for r in rows_of("users", cast)}
    assert sorted(rows) == [
        "admin@example.test",
        "maya@example.test",
        "otto@example.test",
        "sam@example.test",
        "tutor@example.test",
    ]
    assert rows["tutor@example.test"] == {
        "user_id": str(cast.tutor.pk),
        "school_id": "T-2001",
        "name": "Tess Tutor",
        "email": "tutor@example.test",
        "roles": "tutor",
        "time_zone": "America/Chicago",
        "active": "true",
        "status": "active",
        "employee_id": "E-7",
        "courses_enrolled": "",
        "courses_tutored": "CHEM 110",
        "joined_at_utc": rows["tutor@example.test"]["joined_at_utc"],
    }
    assert rows["maya@example.test"]["roles"] == "student"
    assert rows["maya@example.test"]["school_id"] == "S-1001"
    assert rows["maya@example.test"]["courses_enrolled"] == "CHEM 110"
    assert rows["admin@example.test"]["roles"] == "admin"


def test_tutor_requests_csv(cast: Cast, scene: Scene) -> None:
    assert rows_of("tutor_requests", cast) == [
        {
            "request_id": str(scene.request.pk),
            "status": "scheduled",
            "modality": "online",
            "course_code": "CHEM 110",
            "student_id": str(cast.student.pk),
            "student_school_id": "S-1001",
            "student_name": "Maya Chen",
            "student_email": "maya@example.test",
            "tutor_id": str(cast.tutor.pk),
            "tutor_school_id": "T-2001",
            "tutor_name": "Tess Tutor",
            "tutor_email": "tutor@example.test",
            "tutor_time_zone": "America/Chicago",
            "requested_at_utc": "2026-03-03T15:00:00Z",
            "requested_start_utc": "2026-03-04T15:00:00Z",
            "planned_minutes": "30",
            "notified_count": "1",
            "responded_count": "1",
            "answer": "accepted",
            "answered_at_utc": "2026-03-03T16:30:00Z",
            "minutes_to_answer": "90",
        }
    ]


def test_recaps_csv(cast: Cast, scene: Scene) -> None:
    assert rows_of("recaps", cast) == [
        {
            "session_id": str(scene.group.pk),
            "course_code": "CHEM 110",
            "tutor_id": str(cast.tutor.pk),
            "tutor_school_id": "T-2001",
            "tutor_name": "Tess Tutor",
            "tutor_email": "tutor@example.test",
            "tutor_time_zone": "America/Chicago",
            "student_school_ids": "S-1001",
            "student_names": "Maya Chen",
            "scheduled_start_utc": "2026-03-02T15:00:00Z",
            "completed_at_utc": "2026-03-02T16:10:00Z",
            "minutes_logged": "55",
            "topics_covered": (
                "Stoichiometry:   mole ratios and limiting reagents, two worked problems."
            ),
            "tutee_progress": (
                "Maya balanced every equation herself and found the limiting reagent."
            ),
            "next_steps": "Problems 4.12 to 4.20 before Thursday's quiz.",
            # 70 + 68 + 45: the three answers with the run of spaces counted as one.
            "recap_chars": "183",
            "logged_by_support": "false",
        }
    ]


def test_transactions_and_payouts_csv(cast: Cast, scene: Scene) -> None:
    earning = scene.group.completion.earning
    payout = scene.payout
    transactions = rows_of("transactions", cast)
    assert [(t["kind"], t["amount"], t["tutor_amount"], t["payout_id"]) for t in transactions] == [
        ("earning", "13.75", "13.75", str(payout.pk)),
        ("payout", "13.75", "-13.75", str(payout.pk)),
    ]
    assert transactions[0] == {
        "transaction_id": str(earning.pk),
        "created_at_utc": "2026-03-02T16:10:00Z",
        "kind": "earning",
        "amount": "13.75",
        "currency": "USD",
        "tutor_amount": "13.75",
        "tutor_id": str(cast.tutor.pk),
        "tutor_school_id": "T-2001",
        "tutor_name": "Tess Tutor",
        "tutor_email": "tutor@example.test",
        "tutor_time_zone": "America/Chicago",
        "session_id": str(scene.group.pk),
        "payout_id": str(payout.pk),
        "description": earning.description,
    }
    assert rows_of("payouts", cast) == [
        {
            "payout_id": str(payout.pk),
            "tutor_id": str(cast.tutor.pk),
            "tutor_school_id": "T-2001",
            "tutor_employee_id": "E-7",
            "tutor_name": "Tess Tutor",
            "tutor_email": "tutor@example.test",
            "tutor_time_zone": "America/Chicago",
            "week_start": "2026-03-02",
            "week_end": "2026-03-08",
            "payout_date": "2026-03-20",
            "provider": "payroll",
            "status": "scheduled",
            "amount": "13.75",
            "currency": "USD",
            "minutes": "55",
            "failure_code": "",
            "failure_reason": "",
            "created_at_utc": "2026-03-10T15:00:00Z",
        }
    ]


def test_a_name_that_looks_like_a_formula_is_kept_as_text(cast: Cast, scene: Scene) -> None:
    cast.student.name = '=HYPERLINK("http://x")'
    cast.student.save(update_fields=["name"])
    row = rows_of("sessions", cast)[0]
    assert row["student_names"] == '\'=HYPERLINK("http://x");Sam Lee'


def test_admin_downloads_an_export(cast: Cast, scene: Scene, client: Client) -> None:
    client.force_login(cast.admin)
    page = client.get(f"/console/{cast.org.pk}/exports/")
    assert page.status_code == 200
    assert f'href="/console/{cast.org.pk}/exports/sessions.csv"' in page.content.decode()
    response = client.get(f"/console/{cast.org.pk}/exports/sessions.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{cast.org.slug}-sessions.csv"'
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert body.count("\r\n") == 4  # the header and three sessions
    assert client.get(f"/console/{cast.org.pk}/exports/nothing.csv").status_code == 404


def test_only_admins_download(cast: Cast, scene: Scene, client: Client) -> None:
    client.force_login(cast.tutor)
    refused = client.get(f"/console/{cast.org.pk}/exports/sessions.csv")
    assert refused.status_code == 403
    assert "Only the organization&#x27;s admins can use its console." in refused.content.decode()
    client.force_login(cast.outsider)
    assert client.get(f"/console/{cast.org.pk}/exports/sessions.csv").status_code == 404
