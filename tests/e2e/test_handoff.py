"""Logging closes while the tutor is typing: the refusal links to a late-log request for
Support that already holds the typed time and recap."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import run_in_demo

pytestmark = pytest.mark.e2e

RECAP = {
    "topics_covered": "Titration curves and choosing an indicator, with two worked examples.",
    "tutee_progress": "Sam found the equivalence point on his own the second time round.",
    "next_steps": "Do the buffer problems in section 17.2 and bring questions on Monday.",
}

NEW_SESSION = """
from datetime import timedelta
from django.utils import timezone
from studyhall.accounts.models import User
from studyhall.orgs.models import Course
from studyhall.tutoring.models import Mode, Origin, Participant, ParticipantState, Session, Status
tutor = User.objects.get(email="tutor@demo.test")
student = User.objects.get(email="student2@demo.test")
course = Course.objects.get(code="CHEM 110")
session = Session.objects.create(
    organization=course.organization, course=course, tutor=tutor, mode=Mode.IN_PERSON,
    location="Library room 4", scheduled_start=timezone.now() - timedelta(hours=3),
    planned_minutes=45, status=Status.SCHEDULED, origin=Origin.INVITATION, created_by=tutor,
)
Participant.objects.create(session=session, user=student, state=ParticipantState.ACCEPTED)
print(session.pk)
"""


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', "studyhall-demo")
    page.locator('form button[type="submit"]').first.click()
    expect(page).to_have_url(re.compile(r"/sessions/$"))


def test_an_expired_grace_refusal_carries_the_recap_into_the_late_log_form(
    demo_server: str, page: Page
) -> None:
    session_id = int(run_in_demo(NEW_SESSION))
    sign_in(page, demo_server, "tutor@demo.test")
    page.goto(f"{demo_server}/sessions/{session_id}/complete/")
    page.get_by_label("Time spent").select_option("45")
    page.get_by_label("Topics covered").fill(RECAP["topics_covered"])
    page.get_by_label("How your tutee did").fill(RECAP["tutee_progress"])
    page.get_by_label("Next steps").fill(RECAP["next_steps"])

    # While the tutor types, the 72 hours run out.
    run_in_demo(
        "from datetime import timedelta; from django.utils import timezone; "
        "from studyhall.tutoring.models import Session; "
        f"Session.objects.filter(pk={session_id}).update("
        "scheduled_start=timezone.now() - timedelta(hours=80))"
    )
    page.get_by_role("button", name="Log time").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Logging closed")
    handoff = alert.get_by_role(
        "link", name="Ask Support to log it, with the time and recap you typed"
    )
    handoff.click()

    expect(page).to_have_url(re.compile(rf"/support/sessions/{session_id}/late-log/\?"))
    expect(page.get_by_label("Time spent")).to_have_value("45")
    expect(page.get_by_label("Topics covered")).to_have_value(RECAP["topics_covered"])
    expect(page.get_by_label("How your tutee did")).to_have_value(RECAP["tutee_progress"])
    expect(page.get_by_label("Next steps")).to_have_value(RECAP["next_steps"])
    # Only the reason is left to write.
    expect(page.get_by_label("Why is it late?")).to_have_value("")
