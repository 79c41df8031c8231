"""After a session, in the browser: Maya confirms it happened as logged; Sam disputes 20
minutes of it, and the tutor's Transaction history shows exactly that pay held while the rest
goes into the next payout; Support reads both sides and upholds the tutor's log."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from studyhall.testing.second_factor import pass_second_factor
from studyhall.tutoring.management.commands.seed_demo import DEMO_TOTP_SECRET
from tests.e2e.conftest import NewPage, run_in_demo

pytestmark = pytest.mark.e2e

# A 60-minute session two hours ago with Maya and Sam, completed by its tutor ($15.00 at the
# demo's $15/h), in the demo organization with confirmations turned on.
COMPLETED_SESSION = """
from datetime import timedelta
from django.utils import timezone
from studyhall.accounts.models import User
from studyhall.orgs.models import Course, Organization
from studyhall.testing import factories as f
from studyhall.tutoring.services.completion import complete_session
org = Organization.objects.get(slug="demo-university")
org.confirmations_required = True
org.save()
tutor = User.objects.get(email="tutor@demo.test")
students = [User.objects.get(email=e) for e in ("student@demo.test", "student2@demo.test")]
course = Course.objects.get(organization=org, code="CHEM 110")
start = timezone.now() - timedelta(hours=2)
session = f.make_session(org=org, tutor=tutor, students=students, course=course, start=start)
complete_session(session_id=session.pk, actor=tutor, minutes=60, recap=f.GOOD_RECAP)
print(session.pk)
"""


def sign_in(page: Page, base: str, email: str, *, second_factor: bool = False) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', "studyhall-demo")
    page.locator('form button[type="submit"]').first.click()
    if second_factor:
        pass_second_factor(page, DEMO_TOTP_SECRET)
    expect(page).to_have_url(re.compile(r"/sessions/$"))


def test_confirm_dispute_and_resolve(demo_server: str, new_page: NewPage) -> None:
    session_id = int(run_in_demo(COMPLETED_SESSION).splitlines()[-1])
    session_url = f"{demo_server}/sessions/{session_id}/"

    maya = new_page()
    sign_in(maya, demo_server, "student@demo.test")
    maya.goto(session_url)
    expect(maya.get_by_role("heading", name="Did this session happen as logged?")).to_be_visible()
    maya.get_by_role("button", name="Yes, confirm").click()
    expect(maya.locator(".messages")).to_contain_text(
        "you confirmed the session happened as logged"
    )
    expect(maya.locator("#my-confirmation")).to_have_text("Your answer: Confirmed.")

    sam = new_page()
    sign_in(sam, demo_server, "student2@demo.test")
    sam.goto(session_url)
    sam.get_by_text("No, something was different").click()
    sam.get_by_label("It was shorter").check()
    sam.get_by_label("Shorter by (minutes)").fill("20")
    sam.get_by_label("What happened?").fill("We stopped after 40 minutes for my lab.")
    sam.get_by_role("button", name="Send to Support").click()
    expect(sam.locator("#my-confirmation")).to_have_text(
        "Your answer: Disputed — It was shorter by 20 min."
    )

    tutor = new_page()
    sign_in(tutor, demo_server, "tutor@demo.test")
    tutor.goto(f"{demo_server}/earnings/transactions/")
    rows = tutor.locator("table.history tbody tr").filter(
        has=tutor.locator(f'a[href="/sessions/{session_id}/"]')
    )
    # Newest first: the release of the undisputed $10.00, the hold, the earning.
    release, hold, earning = rows.nth(0), rows.nth(1), rows.nth(2)
    expect(earning).to_contain_text("Held for a dispute: $5.00")
    expect(earning.locator('[data-label="Amount"]')).to_have_text("$15.00")
    expect(hold.locator('[data-label="Amount"]')).to_have_text("−$15.00")
    expect(release.locator('[data-label="Amount"]')).to_have_text("$10.00")
    expect(release.locator('[data-label="Payout"]')).to_contain_text("Next payout")

    agent = new_page()
    sign_in(agent, demo_server, "support@demo.test", second_factor=True)
    agent.goto(f"{demo_server}/support/disputes/")
    agent.locator(f'a[href="/support/disputes/{session_id}/"]').click()
    expect(agent.locator("#tutor-logged")).to_have_text("1 h")
    expect(agent.get_by_role("main")).to_contain_text(
        "It was shorter by 20 min: We stopped after 40 minutes for my lab."
    )
    agent.get_by_label("Note (optional)").fill("The classroom log shows a full hour.")
    agent.get_by_role("button", name="Uphold the tutor's log").click()
    expect(agent.locator("#dispute-state")).to_contain_text("The tutor's log was upheld")

    tutor.reload()
    released = rows.nth(0)
    expect(released.locator('[data-label="Amount"]')).to_have_text("$5.00")
    expect(rows.nth(3)).to_contain_text("Confirmed")
