"""A tutor signs in, tries a recap that is too short, then completes the session and is paid."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

SHORT = {
    "topics_covered": "Limiting reagents.",
    "tutee_progress": "Did well.",
    "next_steps": "More practice.",
}
FULL = {
    "topics_covered": "Limiting reagents and percent yield, with three worked stoichiometry "
    "problems from last year's midterm.",
    "tutee_progress": "Maya balanced every equation herself and caught her own unit mistake.",
    "next_steps": "Finish the practice set in chapter 4 before Thursday's lab.",
}


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', "studyhall-demo")
    page.locator('form button[type="submit"]').first.click()
    expect(page).to_have_url(re.compile(r"/sessions/$"))


def fill_recap(page: Page, answers: dict[str, str]) -> None:
    page.get_by_label("Topics covered").fill(answers["topics_covered"])
    page.get_by_label("How your tutee did").fill(answers["tutee_progress"])
    page.get_by_label("Next steps").fill(answers["next_steps"])


def test_tutor_completes_the_ready_in_person_session(demo_server: str, page: Page) -> None:
    sign_in(page, demo_server, "tutor@demo.test")
    header = page.locator("header.site-header")
    # Last week's $13.75 is already in a scheduled payout, so nothing is left to pay out.
    expect(header).to_contain_text("$0.00")

    needs = page.locator("#needs-completion")
    ready = needs.locator("li, tr").filter(has_text="CHEM 110").filter(has_text="closes in")
    expect(ready).to_have_count(1)
    ready.get_by_role("link").first.click()
    expect(page.locator("main")).to_contain_text("In person")

    page.get_by_role("link", name="Complete Session").click()
    page.get_by_label("Time spent").select_option("55")
    fill_recap(page, SHORT)
    page.get_by_role("button", name="Log time").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("it needs at least 150")
    # What the tutor typed is still there.
    expect(page.get_by_label("Topics covered")).to_have_value(SHORT["topics_covered"])
    expect(page.get_by_label("Time spent")).to_have_value("55")

    fill_recap(page, FULL)
    expect(page.locator("main")).to_contain_text(re.compile(r"\d+ / 150"))
    page.get_by_role("button", name="Log time").click()

    expect(page.locator("main")).to_contain_text("Completed")
    expect(page.locator("body")).to_contain_text("$13.75 deposited")
    # 55 minutes at $15.00/h.
    expect(header).to_contain_text("$13.75")
