"""An online session nobody was measured in: the Complete Session page warns, shows what was
measured, and completes only once the tutor confirms the time."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import run_in_demo

pytestmark = pytest.mark.e2e

RECAP = {
    "topics_covered": "Related rates: the ladder and the conical tank, set up from a sketch.",
    "tutee_progress": "Sam wrote the chain rule step himself on the second problem.",
    "next_steps": "Do problems 12 to 18 in section 3.9 and bring the ones that stick.",
}
WARNING = (
    "The classroom measured no time with you and a student together, yet you are logging "
    "45 min. If you met anyway (by phone, say), confirm the time and log it again: the session "
    "will be flagged for your program to review."
)

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
    organization=course.organization, course=course, tutor=tutor, mode=Mode.ONLINE,
    scheduled_start=timezone.now() - timedelta(hours=3),
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


def test_an_unmeasured_online_session_is_confirmed_before_it_completes(
    demo_server: str, page: Page
) -> None:
    session_id = int(run_in_demo(NEW_SESSION))
    sign_in(page, demo_server, "tutor@demo.test")
    page.goto(f"{demo_server}/sessions/{session_id}/complete/")
    confirm = page.get_by_label("The time I chose is right: log it anyway")
    expect(confirm).to_be_hidden()
    page.get_by_label("Time spent").select_option("45")
    for label, key in (
        ("Topics covered", "topics_covered"),
        ("How your tutee did", "tutee_progress"),
        ("Next steps", "next_steps"),
    ):
        page.get_by_label(label).fill(RECAP[key])
    page.get_by_role("button", name="Log time").click()

    alert = page.get_by_role("alert")
    expect(alert).to_have_text(WARNING)
    expect(confirm).to_be_visible()
    expect(confirm).not_to_be_checked()
    # Nothing is completed yet, and what was typed is kept.
    expect(page.get_by_label("Next steps")).to_have_value(RECAP["next_steps"])
    assert (
        run_in_demo(
            "from studyhall.tutoring.models import Completion; "
            f"print(Completion.objects.filter(session_id={session_id}).count())"
        )
        == "0"
    )

    confirm.check()
    page.get_by_role("button", name="Log time").click()
    expect(page).to_have_url(re.compile(rf"/sessions/{session_id}/$"))
    main = page.locator("main")
    # $15.00/h × 45 min, flagged for the program to review.
    expect(main).to_contain_text("Session completed — $11.25 deposited")
    expect(page.locator("#overlog-flag")).to_have_text(
        "Flagged for review: 45 min logged, nothing measured in the classroom."
    )
