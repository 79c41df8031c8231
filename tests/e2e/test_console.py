"""The org admin's console in Chromium: roster import, tutor approval, deactivation and the
flagged-session filter, on the demo data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from studyhall.testing.second_factor import pass_second_factor
from studyhall.tutoring.management.commands.seed_demo import DEMO_TOTP_SECRET

pytestmark = pytest.mark.e2e

ROSTER = """school_id,email,name,roles,enrolled_courses,tutor_courses,status
E2E-1,quinn@college.test,Quinn Park,student,CHEM 110,,
E2E-2,rosa@college.test,Rosa Diaz,tutor,,MATH 151,
"""


def sign_in(page: Page, base: str, email: str, lands: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', "studyhall-demo")
    page.locator('form button[type="submit"]').first.click()
    # The org admin is asked for the code of their authenticator app.
    pass_second_factor(page, DEMO_TOTP_SECRET)
    expect(page).to_have_url(re.compile(lands))


def console_nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Console").get_by_role("link", name=name).click()


def upload(page: Page, path: Path) -> None:
    console_nav(page, "Roster import")
    page.get_by_label("Roster CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Check the file (dry run)").click()


def test_admin_imports_a_roster_twice(demo_server: str, page: Page, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    sign_in(page, demo_server, "admin@demo.test", r"/console/\d+/$")
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()

    upload(page, path)
    summary = page.locator("#roster-summary")
    expect(summary).to_contain_text(re.compile(r"To add\s*2"))
    page.get_by_role("button", name="Apply 2 rows").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Imported 2 rows: 2 added, 0 updated, 0 deactivated."
    )

    upload(page, path)
    expect(page.locator("#roster-summary")).to_contain_text(re.compile(r"To add\s*0"))
    page.get_by_role("button", name="Apply 2 rows").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Nothing to change: the roster already matches this file."
    )
    console_nav(page, "People")
    page.get_by_label("Name, email or school ID").fill("E2E-1")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("main table tbody tr")).to_have_count(1)
    expect(page.locator("main table")).to_contain_text("Quinn Park")


def test_admin_approves_an_application_and_the_tutor_can_be_booked(
    demo_server: str, page: Page
) -> None:
    sign_in(page, demo_server, "admin@demo.test", r"/console/\d+/$")
    console_nav(page, "Tutor approvals")
    page.get_by_role("button", name="Approve Lena Okafor for CHEM 110").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Lena Okafor is approved (Active) for CHEM 110."
    )
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, demo_server, "student@demo.test", r"/sessions/$")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Book a session").click()
    expect(
        page.get_by_role("link", name="Request a session with Lena Okafor for CHEM 110")
    ).to_be_visible()


def test_admin_deactivates_a_student_who_can_no_longer_sign_in(
    demo_server: str, page: Page
) -> None:
    sign_in(page, demo_server, "admin@demo.test", r"/console/\d+/$")
    console_nav(page, "People")
    page.get_by_label("Name, email or school ID").fill("Ava Brooks")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Ava Brooks").click()
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("status").first).to_contain_text("Deactivated")
    page.get_by_role("button", name="Sign out").click()

    page.goto(f"{demo_server}/accounts/login/")
    page.fill('input[name="login"]', "student3@demo.test")
    page.fill('input[name="password"]', "studyhall-demo")
    page.locator('form button[type="submit"]').first.click()
    expect(page).not_to_have_url(re.compile(r"/(sessions|console)/"))
    expect(page.locator("main")).to_contain_text(re.compile("inactive|not valid|incorrect", re.I))


def test_admin_filters_sessions_to_the_flagged_one_and_opens_it(
    demo_server: str, page: Page
) -> None:
    sign_in(page, demo_server, "admin@demo.test", r"/console/\d+/$")
    console_nav(page, "Sessions")
    page.get_by_label("Flagged only").check()
    # The change alone refreshes the list; pressing Filter too, as a keyboard user would,
    # makes sure of it on a slow machine.
    page.get_by_role("button", name="Filter").click()
    results = page.locator("#session-results")
    expect(results).to_contain_text("1 session.", timeout=15_000)
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"flagged=1"))
    results.locator("tbody tr a").first.click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/$"))
    expect(page.locator("main")).to_contain_text("Completed")
