"""Live regions (WCAG 2.1 4.1.3 Status Messages): each is polite, and its text changes without
a reload. The recap's character count is announced once typing pauses, not at each key; the
session page's Complete panel announces the Complete Session button when completion opens,
and its logging countdown moves with the session. The classroom's and the Support chat's
logs are checked where those flows run (test_classroom_captions.py, test_support_chat.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import sign_in
from tests.e2e.conftest import run_in_demo
from tests.e2e.test_live_complete_button import MAYA_IN, MAYA_OUT, NEW_SESSION, presence

pytestmark = pytest.mark.e2e

LIVE = 20_000  # the session page asks every 5 seconds; allow for a slow machine
TOPICS = "Limiting reagents, in grams and in moles."

# Counts each change of the live region's text from now on.
COUNT_CHANGES = """(live) => {
  window.__liveChanges = [];
  new MutationObserver(() => window.__liveChanges.push(live.textContent)).observe(live, {
    childList: true, characterData: true, subtree: true,
  });
}"""


def _mark(page: Page) -> None:
    """Marks this load of the page: still there afterwards means nothing reloaded it."""
    page.evaluate("() => { window.__sameLoad = true; }")


def _same_load(page: Page) -> bool:
    return bool(page.evaluate("() => window.__sameLoad === true"))


def test_the_recap_count_is_announced_once_typing_pauses(demo_server: str, page: Page) -> None:
    page.set_default_timeout(30_000)
    sign_in(page, demo_server, "tutor@demo.test")
    row = page.locator("#needs-completion li").filter(has_text="CHEM 110")
    row.filter(has_text="closes in").first.get_by_role("link").first.click()
    page.get_by_role("link", name="Complete Session").click()
    _mark(page)

    shown = page.locator("[data-recap-count-text]")
    live = page.locator("[data-recap-count-live]")
    expect(live).to_have_attribute("aria-live", "polite")
    # The count under the answers changes at every key, so it is not a live region itself.
    assert shown.evaluate("e => e.closest('[aria-live], [role=status], [role=log]')") is None
    expect(live).to_have_text("")
    live.evaluate(COUNT_CHANGES)

    least = int(page.locator("[data-recap-count]").get_attribute("data-min-chars") or 0)
    page.get_by_label("Topics covered").press_sequentially(TOPICS, delay=40)
    expect(shown).to_have_text(
        f"{len(TOPICS)} / {least} characters — {least - len(TOPICS)} more needed"
    )
    first = shown.text_content() or ""
    expect(live).to_have_text(first, timeout=5_000)
    # One announcement for the whole phrase.
    assert page.evaluate("() => window.__liveChanges") == [first]

    page.get_by_label("How your tutee did").press_sequentially("Did well.", delay=40)
    said = f"{len(TOPICS) + 9} / {least} characters — {least - len(TOPICS) - 9} more needed"
    expect(live).to_have_text(said, timeout=5_000)
    assert page.evaluate("() => window.__liveChanges") == [first, said]
    assert _same_load(page)


def test_the_complete_panel_announces_the_button_and_its_countdown(
    demo_server: str, page: Page
) -> None:
    session_id = int(run_in_demo(NEW_SESSION))
    presence(session_id, MAYA_IN)
    sign_in(page, demo_server, "tutor@demo.test")
    page.goto(f"{demo_server}/sessions/{session_id}/")
    _mark(page)
    region = page.locator("#complete-live")
    expect(region).to_have_attribute("aria-live", "polite")
    # The region stays the same node while the panel inside it is swapped.
    region.evaluate("e => { e.__kept = true; }")
    panel = region.locator("#complete-panel")
    button = panel.get_by_role("link", name="Complete Session")
    expect(panel).to_contain_text("Maya Chen is still in the call.")
    expect(button).to_have_count(0)

    presence(session_id, MAYA_OUT)
    expect(button).to_be_visible(timeout=LIVE)
    countdown = panel.locator("p").filter(has_text="Logging closes in")
    expect(countdown).to_contain_text(re.compile(r"Logging closes in \d+ hours"))
    before = _hours_left(countdown.text_content() or "")

    # A day and a half later (the session moved back instead): the countdown follows.
    presence(
        session_id,
        "from datetime import timedelta; from studyhall.tutoring.models import Session; "
        f"s = Session.objects.get(pk={session_id}); "
        "s.scheduled_start -= timedelta(hours=36); s.save(update_fields=['scheduled_start'])",
    )
    # The deadline moves by less than the start when the call ran past the new end.
    expect(countdown).not_to_contain_text(f"Logging closes in {before} hours", timeout=LIVE)
    after = _hours_left(countdown.text_content() or "")
    assert before - 36 <= after < before, (before, after)
    assert region.evaluate("e => e.__kept === true")
    assert _same_load(page)


def _hours_left(text: str) -> int:
    found = re.search(r"Logging closes in (\d+) hours", text)
    assert found is not None, text
    return int(found[1])
