"""The session page follows the classroom both ways without a reload: the Complete Session
button appears when the last student leaves, hides when one rejoins, and comes back when they
leave again; the status badge moves with them. Presence goes through the classroom's own
join and leave services, against the demo server's database."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import run_in_demo

pytestmark = pytest.mark.e2e

LIVE = 20_000  # the page asks every 5 seconds; allow for a slow machine

NEW_SESSION = """
from datetime import timedelta
from django.utils import timezone
from studyhall.accounts.models import User
from studyhall.orgs.models import Course
from studyhall.tutoring.models import Mode, Origin, Participant, ParticipantState, Session, Status
tutor = User.objects.get(email="tutor@demo.test")
student = User.objects.get(email="student@demo.test")
course = Course.objects.get(code="CHEM 110")
session = Session.objects.create(
    organization=course.organization, course=course, tutor=tutor, mode=Mode.ONLINE,
    scheduled_start=timezone.now() - timedelta(minutes=10), planned_minutes=60,
    status=Status.SCHEDULED, origin=Origin.INVITATION, created_by=tutor,
)
Participant.objects.create(session=session, user=student, state=ParticipantState.ACCEPTED)
print(session.pk)
"""


def presence(session_id: int, step: str, *, tutor_stays: bool = True) -> None:
    """One step in the classroom. The tutor's tab is re-announced first (a join with the same
    peer id is a reconnect), standing in for the heartbeats a real tab sends every 15 s."""
    run_in_demo(
        "from studyhall.accounts.models import User; from studyhall.calls import services; "
        f"sid = {session_id}; "
        "tutor = User.objects.get(email='tutor@demo.test'); "
        "maya = User.objects.get(email='student@demo.test'); "
        + (f"{TUTOR_IN}; " if tutor_stays else "")
        + step
    )


TUTOR_IN = "services.join(session_id=sid, user=tutor, peer_id='tutor-e2e-0001', channel_name='c.t')"
MAYA_IN = "services.join(session_id=sid, user=maya, peer_id='maya-e2e-0001', channel_name='c.m')"
MAYA_OUT = "services.leave(peer_id='maya-e2e-0001')"


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', "studyhall-demo")
    page.locator('form button[type="submit"]').first.click()
    expect(page).to_have_url(re.compile(r"/sessions/$"))


def test_the_complete_button_hides_on_rejoin_and_reappears(demo_server: str, page: Page) -> None:
    session_id = int(run_in_demo(NEW_SESSION))
    presence(session_id, MAYA_IN)
    sign_in(page, demo_server, "tutor@demo.test")
    page.goto(f"{demo_server}/sessions/{session_id}/")
    panel = page.locator("#complete-panel")
    button = panel.get_by_role("link", name="Complete Session")
    badge = page.locator("#session-status")

    expect(panel).to_contain_text("Maya Chen is still in the call.")
    expect(button).to_have_count(0)
    expect(badge).to_have_text("In progress")

    presence(session_id, MAYA_OUT)  # the tutor stays; Maya hangs up
    expect(button).to_be_visible(timeout=LIVE)
    expect(badge).to_have_text("Starting", timeout=LIVE)

    presence(session_id, MAYA_IN)  # she comes back
    expect(button).to_have_count(0, timeout=LIVE)
    expect(panel).to_contain_text("Maya Chen is still in the call.", timeout=LIVE)
    expect(badge).to_have_text("In progress", timeout=LIVE)

    presence(session_id, MAYA_OUT)
    expect(button).to_be_visible(timeout=LIVE)
    presence(session_id, "services.leave(peer_id='tutor-e2e-0001')", tutor_stays=False)
    expect(badge).to_have_text("Scheduled", timeout=LIVE)
    expect(button).to_be_visible()
