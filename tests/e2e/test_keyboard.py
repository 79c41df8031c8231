"""The main flows with the keyboard alone: every action is a key press (Tab, Shift+Tab, Enter,
Space, arrows, Escape, typing), and each stop Tab reaches shows its focus ring. Focus moves
into the Support chat and the classroom's pop-up when they open and back out when they close.

The classroom part needs no second person, so no peer connection is made: Chromium's fake
camera and microphone stand in, and the call stays on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from studyhall.testing.browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    WEBRTC_FLAGS,
    close_browser,
    close_context,
)
from studyhall.testing.second_factor import totp_code
from studyhall.tutoring.management.commands.seed_demo import DEMO_TOTP_SECRET
from tests.e2e.a11y import PASSWORD, UNDER_WAY
from tests.e2e.conftest import run_in_demo

pytestmark = pytest.mark.e2e

DEMO_ZONE = ZoneInfo("America/New_York")
RECAP = (
    "Limiting reagents: finding which reactant runs out first, in grams and in moles.",
    "Maya worked the last two problems alone and checked her units each time.",
    "Try the end-of-chapter set, then bring the ones with percent yield next week.",
)


@pytest.fixture(scope="module")
def media_browser() -> Iterator[Browser]:
    """Chromium with a fake camera and microphone (no prompt), for the classroom."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, *WEBRTC_FLAGS]
        )
        try:
            yield browser
        finally:
            close_browser(browser)


@pytest.fixture
def keys(media_browser: Browser) -> Iterator[Page]:
    context = media_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        close_context(context)


def _focused(target: Locator) -> bool:
    return bool(target.evaluate("e => e === document.activeElement"))


# One round trip per Tab stop: is the target focused, and does the focused element show a ring
# (and what it is, for the message when it does not).
FOCUS_STOP = """(target) => {
  const e = document.activeElement;
  let ring = true;
  // Chromium gives focus to a date or time field's inner parts; the ring the stylesheet puts
  // on the field is checked by hand (see docs/accessibility.md).
  if (e && e !== document.body && !e.matches('input[type="date"], input[type="time"]')) {
    const s = getComputedStyle(e);
    ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== "none";
  }
  return { reached: e === target, ring, where: e ? e.outerHTML.slice(0, 120) : "" };
}"""


def tab_to(page: Page, target: Locator, *, back: bool = False, limit: int = 80) -> None:
    """Press Tab (or Shift+Tab) until `target` has focus; every stop on the way shows it."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        stop = target.evaluate(FOCUS_STOP)
        assert stop["ring"], f"no visible focus on {stop['where']}"
        if stop["reached"]:
            return
    raise AssertionError(f"Tab never reached {target}")


def follow(page: Page) -> None:
    """Press Enter on the focused link or button and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def type_into(page: Page, target: Locator, text: str) -> None:
    tab_to(page, target)
    page.keyboard.type(text)


def choose(page: Page, select: Locator, value: str) -> None:
    """Pick an option of a focused <select> with the arrow keys."""
    tab_to(page, select)
    for _ in range(40):
        if select.input_value() == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{value} is not among the options")


def sign_in_by_keyboard(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    type_into(page, page.locator('input[name="login"]'), email)
    type_into(page, page.locator('input[name="password"]'), PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/2fa/authenticate/" in page.url:
        type_into(page, page.locator('input[name="code"]'), totp_code(DEMO_TOTP_SECRET))
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/2fa/" not in url)


def sign_out_by_keyboard(page: Page) -> None:
    tab_to(page, page.get_by_role("button", name="Sign out"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/accounts/login/"))


def test_skip_link_sign_in_and_ask_support(demo_server: str, keys: Page) -> None:
    page = keys
    sign_in_by_keyboard(page, demo_server, "student@demo.test")
    expect(page).to_have_url(re.compile(r"/sessions/$"))
    # The first Tab reaches "Skip to content", which moves focus to the page's main part.
    page.keyboard.press("Tab")
    assert _focused(page.get_by_role("link", name="Skip to content"))
    page.keyboard.press("Enter")
    assert _focused(page.locator("main"))

    toggle = page.locator("#support-chat-toggle")
    tab_to(page, toggle)
    page.keyboard.press("Enter")
    panel = page.locator("#support-chat-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#support-chat-panel :focus")).to_have_count(1)  # focus moved in
    page.keyboard.type("Where do I see my past sessions?")
    page.keyboard.press("Enter")
    expect(page.locator("#support-chat-log")).to_contain_text("Where do I see my past sessions?")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert _focused(toggle)  # and back out to the button that opened it


def test_book_then_accept(demo_server: str, keys: Page) -> None:
    page = keys
    day = (datetime.now(DEMO_ZONE) + timedelta(days=9)).date()
    sign_in_by_keyboard(page, demo_server, "student@demo.test")
    nav = page.get_by_role("navigation", name="Main")
    tab_to(page, nav.get_by_role("link", name="Book a session"))
    follow(page)
    expect(page.get_by_role("heading", name="Book a session")).to_be_visible()
    tab_to(page, page.get_by_role("link", name="Request a session with Jordan Rivera for CHEM 110"))
    follow(page)
    date = page.get_by_label("Date")
    tab_to(page, date)
    page.keyboard.type(f"{day:%m%d%Y}")
    assert date.input_value() == day.isoformat()
    start = page.get_by_label("Start time")
    tab_to(page, start)
    page.keyboard.type("1000AM")
    assert start.input_value() == "10:00"
    choose(page, page.get_by_label("Length"), "60")
    type_into(page, page.get_by_label("Note"), "Titrations, by keyboard.")
    tab_to(page, page.get_by_role("button", name="Send request"))
    follow(page)
    expect(page.locator("body")).to_contain_text("Request sent to Jordan Rivera.")
    session_url = page.url
    sign_out_by_keyboard(page)

    sign_in_by_keyboard(page, demo_server, "tutor@demo.test")
    requested = page.locator("#upcoming li").filter(has_text="Titrations")
    if not requested.count():
        requested = page.locator("#upcoming li").filter(has_text="Requested")
    tab_to(page, requested.get_by_role("link").first)
    follow(page)
    expect(page).to_have_url(session_url)
    tab_to(page, page.get_by_role("button", name="Accept request"))
    follow(page)
    expect(page.locator("body")).to_contain_text(
        "You accepted the request; the session is scheduled."
    )


def test_complete_with_a_recap_and_a_polite_count(demo_server: str, keys: Page) -> None:
    page = keys
    sign_in_by_keyboard(page, demo_server, "tutor@demo.test")
    row = page.locator("#needs-completion li").filter(has_text="CHEM 110")
    row = row.filter(has_text="closes in").first
    tab_to(page, row.get_by_role("link").first)
    follow(page)
    tab_to(page, page.get_by_role("link", name="Complete Session"))
    follow(page)
    choose(page, page.get_by_label("Time spent"), "55")
    live = page.locator("[data-recap-count-live]")
    type_into(page, page.get_by_label("Topics covered"), RECAP[0])
    # The count is announced once typing pauses, not at every key.
    assert live.text_content() == ""
    expect(live).to_have_text(re.compile(r"characters"), timeout=5_000)
    type_into(page, page.get_by_label("How your tutee did"), RECAP[1])
    type_into(page, page.get_by_label("Next steps"), RECAP[2])
    expect(live).to_have_text(re.compile(r"— enough$"), timeout=5_000)
    tab_to(page, page.get_by_role("button", name="Log time"))
    follow(page)
    expect(page.get_by_role("status").first).to_have_text(
        "Session completed — $13.75 deposited to your Studyhall account."
    )


def test_classroom_join_mute_pop_up_and_leave(demo_server: str, keys: Page) -> None:
    page = keys
    sign_in_by_keyboard(page, demo_server, "tutor@demo.test")
    # The online session under way: its page's address, then the keyboard.
    page.goto(f"{demo_server}/sessions/{run_in_demo(UNDER_WAY)}/")
    tab_to(page, page.get_by_role("link", name="Join online classroom"))
    follow(page)
    expect(page).to_have_url(re.compile(r"/classroom/$"))
    mute = page.locator("#toggle-audio")
    expect(mute).to_be_enabled()
    tab_to(page, mute, back=True)
    page.keyboard.press("Space")
    expect(mute).to_have_attribute("aria-pressed", "true")

    hang_up = page.locator("#hangup-button")
    tab_to(page, hang_up, back=True)
    page.keyboard.press("Enter")
    expect(page.locator("#hangup-menu")).to_be_visible()
    assert _focused(page.get_by_role("button", name="Leave call", exact=True))  # focus moved in
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    dialog = page.locator("#log-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#log-dialog :focus")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert _focused(hang_up)  # and back out

    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # "Leave call", the first choice
    page.wait_for_url(re.compile(r"/sessions/\d+/$"))


def test_console_lists(demo_server: str, keys: Page) -> None:
    page = keys
    sign_in_by_keyboard(page, demo_server, "admin@demo.test")
    expect(page).to_have_url(re.compile(r"/console/\d+/$"))
    nav = page.get_by_role("navigation", name="Console")
    for name, heading in (
        ("Sessions", "Sessions"),
        ("People", "People"),
        ("Courses", "Courses"),
        ("Tutor approvals", "Tutor approvals"),
    ):
        tab_to(page, nav.get_by_role("link", name=name, exact=True))
        follow(page)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        # A table that may scroll sideways takes focus, so arrows can scroll it.
        wrap = page.locator("main .table-wrap").first
        if wrap.count():
            tab_to(page, wrap)
