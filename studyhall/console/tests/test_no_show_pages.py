"""No-shows in the console and on the session page: a student reports the tutor absent from
the session page, the report waits in Needs attention, the admin decides it on its page; a
person's no-shows and standing suspension show on their page, where the admin lifts it; the
policy page sets every policy field, grouped, validated and audited."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import Cast
from studyhall.console.forms import POLICY_GROUPS, PolicyForm
from studyhall.console.tests.conftest import signed_in
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import Organization
from studyhall.testing import factories as f
from studyhall.tutoring.models import (
    BookingSuspension,
    NoShowRole,
    Session,
    Status,
    TutorAbsenceReport,
)

STUDENT_PAGE_QUERIES = 11


def in_person(cast: Cast) -> Session:
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() - timedelta(minutes=20),
    )


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_student_reports_the_tutor_absent_from_the_session_page(cast: Cast) -> None:
    session = in_person(cast)
    detail = reverse("tutoring:detail", kwargs={"pk": session.pk})
    student = signed_in(cast.student)
    page = student.get(detail).content.decode()
    assert "My tutor didn&#x27;t come" in page or "My tutor didn't come" in page
    assert 'for="absence-note"' in page

    response = student.post(
        reverse("tutoring:report_absence", kwargs={"pk": session.pk}),
        {"note": "Waited at the desk."},
        follow=True,
    )

    assert messages_of(response) == [
        "Reported: your program's admins will decide, and you will hear the outcome. Until "
        "then the session cannot be logged."
    ]
    page = response.content.decode()
    assert "You reported that Tess Tutor did not come." in page
    assert 'id="report-absence"' not in page
    # The tutor's page says why logging waits.
    tutor_page = signed_in(cast.tutor).get(detail).content.decode()
    assert "A student reported that you did not come." in tutor_page
    assert "can be logged once an org admin has decided the report" in tutor_page


def test_a_second_report_is_refused_with_a_message(cast: Cast) -> None:
    session = in_person(cast)
    url = reverse("tutoring:report_absence", kwargs={"pk": session.pk})
    student = signed_in(cast.student)
    student.post(url, {}, follow=True)

    response = student.post(url, {}, follow=True)

    assert messages_of(response) == [
        "You already reported that the tutor did not come; an org admin is looking into it."
    ]
    assert TutorAbsenceReport.objects.count() == 1


def test_the_tutor_cannot_report_themselves(cast: Cast) -> None:
    session = in_person(cast)
    response = signed_in(cast.tutor).post(
        reverse("tutoring:report_absence", kwargs={"pk": session.pk}), {}
    )
    assert response.status_code == 403
    assert not TutorAbsenceReport.objects.exists()


def test_the_report_waits_in_needs_attention_and_the_admin_decides_it(cast: Cast) -> None:
    session = in_person(cast)
    signed_in(cast.student).post(reverse("tutoring:report_absence", kwargs={"pk": session.pk}))
    admin = signed_in(cast.admin)
    home = admin.get(reverse("console:home", kwargs={"org_id": cast.org.pk}))
    page_url = reverse(
        "console:session_absence", kwargs={"org_id": cast.org.pk, "session_id": session.pk}
    )
    assert home.context["absences_count"] == 1
    assert f'href="{page_url}"' in home.content.decode()

    page = admin.get(page_url).content.decode()
    assert "Maya Chen" in page
    assert "The tutor did not come: the session is missed, counted as a no-show" in page

    bad = admin.post(page_url, {"decision": "maybe"})
    assert bad.status_code == 400
    assert TutorAbsenceReport.objects.get().state == "open"

    response = admin.post(page_url, {"decision": "tutor_absent", "note": "Confirmed."})

    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.status, session.missed_reason) == (Status.MISSED, "tutor_no_show")
    home = admin.get(reverse("console:home", kwargs={"org_id": cast.org.pk}))
    assert home.context["absences_count"] == 0
    detail = signed_in(cast.student).get(reverse("tutoring:detail", kwargs={"pk": session.pk}))
    text = detail.content.decode()
    assert "Missed: the tutor did not come." in text
    assert f"/sessions/book/?course={cast.course.pk}" in text


def test_the_session_page_sends_the_admin_to_the_decision(cast: Cast) -> None:
    session = in_person(cast)
    detail = reverse("tutoring:detail", kwargs={"pk": session.pk})
    assert 'id="decide-absence"' not in signed_in(cast.admin).get(detail).content.decode()
    signed_in(cast.student).post(reverse("tutoring:report_absence", kwargs={"pk": session.pk}))

    page = signed_in(cast.admin).get(detail).content.decode()

    decide = reverse(
        "console:session_absence", kwargs={"org_id": cast.org.pk, "session_id": session.pk}
    )
    assert f'href="{decide}"' in page
    assert 'id="decide-absence"' not in signed_in(cast.student).get(detail).content.decode()


def test_the_session_page_stays_pinned_for_a_student_who_may_report(
    cast: Cast, django_assert_num_queries: Any
) -> None:
    """The student's own report is one read, and only on an in-person session they may
    report or that is reported; the page costs what an online one does."""
    online = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() + timedelta(days=2),
        mode="online",
        location="",
    )
    session = in_person(cast)
    student = signed_in(cast.student)
    for s in (online, session):
        student.get(reverse("tutoring:detail", kwargs={"pk": s.pk}))
    with django_assert_num_queries(STUDENT_PAGE_QUERIES):
        student.get(reverse("tutoring:detail", kwargs={"pk": online.pk}))
    with django_assert_num_queries(STUDENT_PAGE_QUERIES):
        student.get(reverse("tutoring:detail", kwargs={"pk": session.pk}))
    student.post(reverse("tutoring:report_absence", kwargs={"pk": session.pk}))
    student.get(reverse("tutoring:detail", kwargs={"pk": session.pk}))
    with django_assert_num_queries(STUDENT_PAGE_QUERIES):
        page = student.get(reverse("tutoring:detail", kwargs={"pk": session.pk}))
    assert "You reported that Tess Tutor did not come." in page.content.decode()


def test_the_booking_page_says_a_suspension_stands(cast: Cast) -> None:
    suspend(cast)
    page = signed_in(cast.student).get(reverse("tutoring:book")).content.decode()
    assert (
        "Your booking as a student at Test College is suspended after 3 no-shows in Spring 2025."
        in page
    )
    assert (
        "is suspended"
        not in signed_in(cast.student2).get(reverse("tutoring:book")).content.decode()
    )


def test_deciding_twice_says_so(cast: Cast) -> None:
    session = in_person(cast)
    signed_in(cast.student).post(reverse("tutoring:report_absence", kwargs={"pk": session.pk}))
    admin = signed_in(cast.admin)
    url = reverse(
        "console:session_absence", kwargs={"org_id": cast.org.pk, "session_id": session.pk}
    )
    admin.post(url, {"decision": "tutor_came"})

    response = admin.post(url, {"decision": "tutor_absent"})

    assert response.status_code == 400
    assert "already decided" in response.content.decode()
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED


def suspend(cast: Cast) -> BookingSuspension:
    return BookingSuspension.objects.create(
        organization=cast.org,
        user=cast.student,
        role=NoShowRole.STUDENT,
        period_start=date(2025, 1, 6),
        period_end=date(2025, 5, 9),
        period_name="Spring 2025",
        no_shows=3,
    )


def test_the_person_page_shows_the_counts_and_lifts_a_suspension(cast: Cast) -> None:
    suspend(cast)
    admin = signed_in(cast.admin)
    person = reverse("console:person", kwargs={"org_id": cast.org.pk, "user_id": cast.student.pk})
    page = admin.get(person).content.decode()
    assert "No-shows in the last 120 days" in page
    assert 'id="suspension-student"' in page
    assert 'for="lift-reason-student"' in page
    lift = reverse(
        "console:person_lift_suspension",
        kwargs={"org_id": cast.org.pk, "user_id": cast.student.pk},
    )

    empty = admin.post(lift, {"role": "student", "reason": ""}, follow=True)
    assert messages_of(empty) == ["Say why the suspension is lifted."]
    assert BookingSuspension.objects.get().lifted_at is None

    done = admin.post(lift, {"role": "student", "reason": "Spoke with them."}, follow=True)

    assert messages_of(done) == ["The suspension is lifted; they can book again and were told."]
    assert BookingSuspension.objects.get().lift_reason == "Spoke with them."
    assert 'id="suspension-student"' not in done.content.decode()


# -- policy ---------------------------------------------------------------------------------


def test_every_policy_field_is_in_one_fieldset() -> None:
    grouped = [name for _, _, names in POLICY_GROUPS for name in names]
    assert sorted(grouped) == sorted(PolicyForm.base_fields)
    assert len(grouped) == len(set(grouped))


def policy_form(org: Organization, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "grace_hours": org.grace_hours,
        "classroom_closes_minutes": org.classroom_closes_minutes,
        "min_recap_chars": org.min_recap_chars,
        "recap_check": org.recap_check,
        "recap_similarity_percent": org.recap_similarity_percent,
        "confirmations_required": "on" if org.confirmations_required else "",
        "auto_confirm_hours": org.auto_confirm_hours,
        "default_hourly_rate": "15.00",
        "min_hourly_rate": "1.00",
        "max_hourly_rate": "100.00",
        "max_session_minutes": org.max_session_minutes,
        "max_group_size": org.max_group_size,
        "student_weekly_minutes_per_course": org.student_weekly_minutes_per_course,
        "tutor_weekly_minutes": org.tutor_weekly_minutes,
        "pair_sessions_per_day": org.pair_sessions_per_day,
        "tutor_no_show_minutes": org.tutor_no_show_minutes,
        "no_show_warning_threshold": org.no_show_warning_threshold,
        "no_show_suspension_threshold": org.no_show_suspension_threshold,
        "payout_provider": org.payout_provider,
        "payout_delay_days": org.payout_delay_days,
        "min_payout": "1.00",
        "state_1099_threshold": "",
        "time_zone": org.time_zone,
        "currency": org.currency,
        "signup_policy": org.signup_policy,
        "signup_email_domains": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def test_the_policy_page_groups_its_fields_in_fieldsets(cast: Cast) -> None:
    url = reverse("console:policy", kwargs={"org_id": cast.org.pk})
    page = signed_in(cast.admin).get(url).content.decode()
    for legend in ("Logging sessions", "Students confirm sessions", "No-shows", "Pay and payouts"):
        assert f"<legend>{legend}</legend>" in page
    for field in (
        "confirmations_required",
        "auto_confirm_hours",
        "recap_check",
        "recap_similarity_percent",
        "state_1099_threshold",
        "classroom_closes_minutes",
        "tutor_no_show_minutes",
        "no_show_warning_threshold",
        "no_show_suspension_threshold",
    ):
        assert f'for="id_{field}"' in page, field


def test_the_new_policy_fields_save_and_are_audited(cast: Cast) -> None:
    url = reverse("console:policy", kwargs={"org_id": cast.org.pk})
    response = signed_in(cast.admin).post(
        url,
        policy_form(
            cast.org,
            confirmations_required="on",
            auto_confirm_hours=24,
            recap_check="flag",
            recap_similarity_percent=80,
            state_1099_threshold="600.00",
            classroom_closes_minutes=30,
            tutor_no_show_minutes=10,
            no_show_warning_threshold=0,
            no_show_suspension_threshold=4,
        ),
    )

    assert response.status_code == 302
    org = Organization.objects.get(pk=cast.org.pk)
    assert (
        org.confirmations_required,
        org.auto_confirm_hours,
        org.recap_check,
        org.recap_similarity_percent,
        org.state_1099_threshold_cents,
        org.classroom_closes_minutes,
        org.tutor_no_show_minutes,
        org.no_show_warning_threshold,
        org.no_show_suspension_threshold,
    ) == (True, 24, "flag", 80, 60000, 30, 10, 0, 4)
    changes = AuditEntry.objects.get(action="policy.changed").data["changes"]
    assert changes == {
        "confirmations_required": {"before": False, "after": True},
        "auto_confirm_hours": {"before": 48, "after": 24},
        "recap_check": {"before": "off", "after": "flag"},
        "recap_similarity_percent": {"before": 90, "after": 80},
        "state_1099_threshold_cents": {"before": None, "after": 60000},
        "classroom_closes_minutes": {"before": 90, "after": 30},
        "tutor_no_show_minutes": {"before": 15, "after": 10},
        "no_show_warning_threshold": {"before": 2, "after": 0},
        "no_show_suspension_threshold": {"before": 3, "after": 4},
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"no_show_warning_threshold": 3, "no_show_suspension_threshold": 3},
            "no_show_warning_threshold",
            "The warning must come before the suspension: warn at fewer than 3 no-shows, or "
            "turn one of them off with 0.",
        ),
        (
            {"tutor_no_show_minutes": 0},
            "tutor_no_show_minutes",
            "Tutor no-show wait must be between 1 and 120 minutes.",
        ),
        (
            {"recap_similarity_percent": 40},
            "recap_similarity_percent",
            "Recap similarity that counts as a copy must be between 50% and 100%.",
        ),
        (
            {"auto_confirm_hours": 0},
            "auto_confirm_hours",
            "Silence confirms after must be between 1 and 720 hours.",
        ),
        (
            {"classroom_closes_minutes": 1441},
            "classroom_closes_minutes",
            "Classroom closes after the end must be between 0 and 1440 minutes.",
        ),
        (
            {"state_1099_threshold": "0.00"},
            "state_1099_threshold",
            "State 1099 threshold must be between $0.01 and $10,000,000.00.",
        ),
    ],
)
def test_bad_policy_values_are_refused_on_their_field_and_nothing_changes(
    cast: Cast, overrides: dict[str, Any], field: str, message: str
) -> None:
    url = reverse("console:policy", kwargs={"org_id": cast.org.pk})
    response = signed_in(cast.admin).post(url, policy_form(cast.org, **overrides))

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    assert not AuditEntry.objects.filter(action="policy.changed").exists()
