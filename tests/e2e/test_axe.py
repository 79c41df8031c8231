"""axe-core in the states a crawl does not reach, at desktop and phone widths. The sweep of
every page for every role is in test_axe_sweep.py and test_axe_sweep_staff.py (separate
files, so that the suite's workers share them out). A serious or critical finding fails;
every result is kept as JSON under var/test-artifacts/axe/."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, expect

from studyhall.testing.browser import close_context
from tests.e2e.a11y import DESKTOP, ROLES, UNDER_WAY, Findings, sign_in
from tests.e2e.conftest import run_in_demo

pytestmark = pytest.mark.e2e

LATE_LOG = {
    "topics_covered": "Integration by parts, with four problems from the textbook.",
    "tutee_progress": "They chose u and dv well on their own by the third problem.",
    "next_steps": "Work the chapter review set and bring any questions next week.",
}


def test_axe_finds_nothing_serious_in_the_states_a_crawl_misses(
    demo_server: str, browser: Browser
) -> None:
    """The states a crawl does not reach: empty lists, a refusal, a form with errors, the
    Support chat open, and the classroom's hang-up menu and its dialog."""
    base, found = demo_server, Findings()
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        sign_in(page, base, ROLES["tutor"] or "")
        page.goto(f"{base}/sessions/")
        row = page.locator("#needs-completion li, #needs-completion tr")
        row.filter(has_text="CHEM 110").filter(has_text="closes in").first.get_by_role(
            "link"
        ).first.click()
        page.get_by_role("link", name="Complete Session").click()
        complete = page.url
        # The server's answer to an empty form, past the browser's own `required` check.
        page.eval_on_selector("main form:has(textarea)", "form => { form.noValidate = true; }")
        page.get_by_role("button", name="Log time").click()
        expect(page.locator("[aria-invalid=true]").first).to_be_visible()
        found.check_both_widths(page, role="tutor", state="complete form with errors")
        page.goto(complete)
        page.get_by_label("Time spent").select_option("55")
        page.get_by_label("Topics covered").fill("Limiting reagents.")
        page.get_by_label("How your tutee did").fill("Did well.")
        page.get_by_label("Next steps").fill("More practice.")
        page.get_by_role("button", name="Log time").click()
        page.get_by_role("alert").first.wait_for()
        found.check_both_widths(page, role="tutor", state="complete form refused")

        page.goto(f"{base}/sessions/{run_in_demo(UNDER_WAY)}/")
        page.get_by_role("link", name="Join online classroom").click()
        # The buttons work once the classroom's script has run (it then defines this hook).
        expect(page).to_have_url(re.compile(r"/classroom/$"))
        page.wait_for_function("() => window.studyhallClassroom !== undefined")
        page.locator("#hangup-button").click()
        expect(page.locator("#hangup-menu")).to_be_visible()
        found.check_both_widths(page, role="tutor", state="classroom hang-up menu open")
        page.get_by_role("button", name="Log time & leave call").click()
        expect(page.locator("#log-dialog")).to_be_visible()
        found.check_both_widths(page, role="tutor", state="classroom log dialog open")

        # A request to Support to log a session whose window closed, for the agent below.
        page.goto(f"{base}/sessions/")
        page.get_by_role("link", name="Ask Support to log this session").first.click()
        found.check_both_widths(page, role="tutor", state="late-log request form")
        page.select_option('select[name="minutes"]', "60")
        for name, text in LATE_LOG.items():
            page.fill(f'textarea[name="{name}"]', text)
        page.fill('textarea[name="reason"]', "I was travelling and forgot to log it.")
        page.get_by_role("button", name="Send to Support").click()
        page.wait_for_load_state()
    finally:
        close_context(context)

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        sign_in(page, base, ROLES["student"] or "")
        page.locator("#support-chat-toggle").click()
        expect(page.locator("#support-chat-panel")).to_be_visible()
        found.check_both_widths(page, role="student", state="Support chat panel open")
        page.locator("#support-chat-panel textarea").fill("How do I cancel a session?")
        page.keyboard.press("Enter")
        expect(page.locator("#support-chat-log")).to_contain_text("How do I cancel a session?")
        found.check_both_widths(page, role="student", state="Support chat with a message")
        page.goto(f"{base}/notifications/")
        mark_all = page.get_by_role("button", name="Mark all as read")
        if mark_all.count():
            mark_all.click()
        expect(mark_all).to_have_count(0)
        found.check_both_widths(page, role="student", state="notifications all read")
    finally:
        close_context(context)

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        sign_in(page, base, ROLES["org admin"] or "")
        org = urlsplit(page.url).path.strip("/").split("/")[-1]
        for path in ("people/?q=nobody-at-all", "sessions/?q=nobody-at-all&flagged=1"):
            page.goto(f"{base}/console/{org}/{path}")
            found.check_both_widths(page, role="org admin", state=f"empty list ({path})")
    finally:
        close_context(context)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        sign_in(page, base, ROLES["support agent"] or "")
        page.goto(f"{base}/support/inbox/")
        page.locator('a[href^="/support/inbox/"]').filter(has_text="Maya").first.click()
        found.check_both_widths(page, role="support agent", state="a conversation")
        page.goto(f"{base}/support/inbox/")
        page.locator('a[href*="/support/late-log/"]').first.click()
        found.check_both_widths(page, role="support agent", state="a late-log request")
    finally:
        close_context(context)

    written = found.write("states")
    assert not found.failing(), f"{len(found.failing())} failing (full results: {written}):\n" + (
        "\n".join(found.failing())
    )
    assert len(found.views) == 24
