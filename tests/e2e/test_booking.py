"""The demo student requests a session, the demo tutor accepts it, both see it as Scheduled."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

DEMO_ZONE = ZoneInfo("America/New_York")


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', "studyhall-demo")
    page.locator('form button[type="submit"]').first.click()
    expect(page).to_have_url(re.compile(r"/sessions/$"))


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_student_requests_tutor_accepts_both_see_scheduled(demo_server: str, page: Page) -> None:
    # Eight days ahead is in a week (and on a day) the demo has no other session in.
    day = (datetime.now(DEMO_ZONE) + timedelta(days=8)).date()
    when = f"{day:%a}, {day:%b} {day.day}, 10:00 AM"  # as the Sessions tab shows it

    sign_in(page, demo_server, "student@demo.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Book a session").click()
    expect(page.get_by_role("heading", name="Book a session")).to_be_visible()
    page.get_by_role("link", name="Request a session with Jordan Rivera for CHEM 110").click()

    expect(page.locator("main")).to_contain_text(
        "CHEM 110 — General Chemistry I, with Jordan Rivera"
    )
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("Length").select_option("60")
    page.get_by_label("Note").fill("Acids and bases, before the quiz.")
    # What is left shows before submitting, for the week of the chosen day.
    allowance = page.locator("#allowance")
    expect(allowance).to_contain_text("You have 3 hours left for CHEM 110")
    expect(allowance).to_contain_text("Jordan Rivera can tutor 15 hours more")
    page.get_by_role("button", name="Send request").click()

    expect(page.locator("body")).to_contain_text("Request sent to Jordan Rivera.")
    expect(page.locator("h1")).to_have_text("CHEM 110 — General Chemistry I")
    badge = page.locator("main .badge").first
    expect(badge).to_have_text("Awaiting tutor")
    session_url = page.url
    sign_out(page)

    sign_in(page, demo_server, "tutor@demo.test")
    requested = page.locator("#upcoming li").filter(has_text="Requested")
    expect(requested).to_have_count(1)
    requested.get_by_role("link").first.click()
    expect(page).to_have_url(session_url)
    expect(page.locator("main")).to_contain_text("Acids and bases, before the quiz.")
    page.get_by_role("button", name="Accept request").click()
    expect(page.locator("body")).to_contain_text(
        "You accepted the request; the session is scheduled."
    )
    expect(page.locator("main .badge").first).to_have_text("Scheduled")
    page.goto(f"{demo_server}/sessions/")
    theirs = page.locator("#upcoming li").filter(has_text="with Maya Chen").filter(has_text=when)
    expect(theirs).to_have_count(1)
    expect(theirs.locator(".badge")).to_have_text("Scheduled")
    sign_out(page)

    sign_in(page, demo_server, "student@demo.test")
    page.goto(session_url)
    expect(page.locator("main .badge").first).to_have_text("Scheduled")
    page.goto(f"{demo_server}/sessions/")
    mine = page.locator("#upcoming li").filter(has_text="with Jordan Rivera").filter(has_text=when)
    expect(mine).to_have_count(1)
    expect(mine.locator(".badge")).to_have_text("Scheduled")
