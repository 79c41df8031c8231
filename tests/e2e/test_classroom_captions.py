"""Live captions and the classroom's live regions, with two people in the call.

Only the classroom's WebSocket is exercised: an init script stands a do-nothing peer connection
in for WebRTC (so no ICE candidate is gathered and no webrtc network namespace is needed) and
has the camera and microphone refuse, so each person joins without them. One person's page gets
a fake speech recognizer that hears a phrase once it is started; the other person's page has
none, as in a browser without speech recognition."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from studyhall.testing.browser import close_context
from tests.e2e.a11y import DESKTOP, UNDER_WAY, sign_in
from tests.e2e.conftest import run_in_demo

pytestmark = pytest.mark.e2e

TUTOR, STUDENT = "tutor@demo.test", "student@demo.test"
TUTOR_NAME, STUDENT_NAME = "Jordan Rivera", "Maya Chen"
PHRASE = "so the ladder slides down the wall"

# No WebRTC and no devices: the classroom runs on its WebSocket alone.
WEBSOCKET_ONLY = """(() => {
  window.RTCPeerConnection = class extends EventTarget {
    constructor() {
      super();
      this.connectionState = "new";
      this.signalingState = "stable";
      this.localDescription = null;
    }
    addTrack() {}
    addTransceiver() {}
    restartIce() {}
    close() {}
    async setLocalDescription() {}
    async setRemoteDescription() {}
    async addIceCandidate() {}
  };
  if (navigator.mediaDevices) {
    navigator.mediaDevices.getUserMedia = async () => {
      throw new DOMException("No device in this test", "NotFoundError");
    };
  }
})();"""

# A recognizer that hears part of a phrase, then all of it, once started; `__say` makes it
# hear more.
HEARS = """(() => {
  const result = (text, isFinal) => {
    const alternative = [{ transcript: text, confidence: 0.9 }];
    alternative.isFinal = isFinal;
    return alternative;
  };
  class FakeRecognition extends EventTarget {
    start() {
      window.__recognizer = this;
      setTimeout(() => this.hear("so the lad", false), 50);
      setTimeout(() => this.hear(PHRASE, true), 150);
    }
    hear(text, isFinal) {
      const event = new Event("result");
      event.resultIndex = 0;
      event.results = [result(text, isFinal)];
      this.dispatchEvent(event);
    }
    stop() { this.dispatchEvent(new Event("end")); }
    abort() {}
  }
  window.SpeechRecognition = FakeRecognition;
  window.webkitSpeechRecognition = FakeRecognition;
  window.__say = (text) => window.__recognizer.hear(text, true);
})();""".replace("PHRASE", json.dumps(PHRASE))
# A browser without speech recognition.
NO_RECOGNIZER = """(() => {
  for (const name of ["SpeechRecognition", "webkitSpeechRecognition"]) {
    Object.defineProperty(window, name, { value: undefined, configurable: true, writable: true });
  }
})();"""
# Headless Chromium's own recognizer: it starts, then fails as this one does.
FAILS = """(() => {
  class FailingRecognition extends EventTarget {
    start() {
      setTimeout(() => {
        const event = new Event("error");
        event.error = "network";
        this.dispatchEvent(event);
        this.dispatchEvent(new Event("end"));
      }, 50);
    }
    stop() {}
    abort() {}
  }
  window.webkitSpeechRecognition = FailingRecognition;
  window.SpeechRecognition = undefined;
})();"""


@pytest.fixture(scope="module")
def under_way(demo_server: str) -> str:
    return f"{demo_server}/sessions/{run_in_demo(UNDER_WAY)}/classroom/"


def _person(browser: Browser, base: str, email: str, *scripts: str) -> BrowserContext:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(30_000)
    for script in (WEBSOCKET_ONLY, *scripts):
        context.add_init_script(script)
    sign_in(context.new_page(), base, email)
    return context


def _enter(context: BrowserContext, url: str) -> Page:
    page = context.pages[0]
    page.goto(url)
    page.wait_for_function("() => window.studyhallClassroom !== undefined")
    page.get_by_role("button", name="Join without camera or microphone").click()
    page.wait_for_function("() => window.studyhallClassroom.connected")
    # Marks this load: still there afterwards means the page changed without reloading.
    page.evaluate("() => { window.__sameLoad = true; }")
    # Every text the status line shows, so a message that a later update replaces (the
    # call's own state follows a join quickly) is still seen to have been announced.
    page.evaluate(
        """() => {
            const status = document.querySelector('#call-status');
            window.__statusTexts = [status.textContent];
            new MutationObserver(() => window.__statusTexts.push(status.textContent))
                .observe(status, {childList: true, characterData: true, subtree: true});
        }"""
    )
    return page


def _announced(page: Page, text: str) -> None:
    """Wait until the status line has said `text` (it may have moved on since)."""
    page.wait_for_function(
        "text => window.__statusTexts.some(shown => shown.includes(text))", arg=text
    )


@pytest.fixture
def pair(browser: Browser, demo_server: str) -> Iterator[tuple[Page, Page]]:
    """The tutor, whose browser has no speech recognition, and Maya, whose browser hears her."""
    tutor = _person(browser, demo_server, TUTOR, NO_RECOGNIZER)
    student = _person(browser, demo_server, STUDENT, HEARS)
    try:
        yield tutor.pages[0], student.pages[0]
    finally:
        close_context(tutor)
        close_context(student)


def _same_load(page: Page) -> bool:
    return bool(page.evaluate("() => window.__sameLoad === true"))


def test_captions_chat_and_leaving_reach_the_other_person_live(
    pair: tuple[Page, Page], under_way: str
) -> None:
    tutor_context, student_context = (p.context for p in pair)
    tutor = _enter(tutor_context, under_way)
    student = _enter(student_context, under_way)
    status = tutor.locator("#call-status")
    expect(status).to_have_attribute("role", "status")
    _announced(tutor, f"{STUDENT_NAME} joined the call.")

    # The captions region: labelled, polite, and never a place focus is sent to.
    region = tutor.locator("#captions-log")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_have_attribute("aria-label", "Live captions, by speaker")
    expect(tutor.get_by_role("heading", name="Live captions")).to_be_visible()
    expect(tutor.locator("#captions-about")).to_contain_text("Captions are not stored")

    # The tutor's browser cannot recognize speech: the button says so, and why.
    button = tutor.locator("#toggle-captions")
    expect(button).to_have_text("Captions unavailable")
    expect(button).to_have_attribute("aria-disabled", "true")
    expect(tutor.locator("#captions-reason")).to_have_text(
        "Captions are unavailable in this browser: it cannot recognize speech. "
        "You still see the captions others make, and the chat works as always."
    )

    # Maya turns captions on with the keyboard; the tutor, typing in the chat, sees them.
    tutor.locator("#chat-text").focus()
    toggle = student.locator("#toggle-captions")
    expect(toggle).to_be_enabled()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.focus()
    student.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(toggle).to_have_text("Caption my speech")
    final_line = region.locator(".captions__line:not(.captions__line--pending)")
    expect(final_line).to_have_text(f"{STUDENT_NAME}: {PHRASE}")
    # Her own page shows her captions too; the tutor's focus stayed in the chat box.
    expect(student.locator("#captions-log .captions__line").last).to_have_text(
        f"{STUDENT_NAME} (you): {PHRASE}"
    )
    assert tutor.evaluate("() => document.activeElement.id") == "chat-text"
    student.evaluate("() => window.__say('and we want how fast the top falls')")
    expect(final_line.last).to_have_text(f"{STUDENT_NAME}: and we want how fast the top falls")
    expect(final_line).to_have_count(2)
    # Turned off with Space, it stops.
    student.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-pressed", "false")

    # The chat is a real log in both directions.
    region = student.get_by_role("log", name="Chat messages")
    expect(region).to_have_attribute("aria-live", "polite")
    log = region.locator("#chat-log")
    tutor.locator("#chat-text").fill("Draw the triangle first.")
    tutor.keyboard.press("Enter")
    expect(log.locator(".chat__message").last).to_contain_text("Draw the triangle first.")
    expect(log.locator(".chat__message time").last).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\dT")
    )

    # Maya hangs up: the tutor's status line says so.
    student.locator("#hangup-button").click()
    student.get_by_role("button", name="Leave call", exact=True).click()
    _announced(tutor, f"{STUDENT_NAME} left the call.")
    expect(status).to_contain_text("Nobody else is here yet.")
    assert _same_load(tutor)
    # Maya's page, once the server has let her go, is the session's own.
    expect(student).to_have_url(under_way.removesuffix("classroom/"))


def test_a_recognizer_that_fails_says_why_and_the_chat_goes_on(
    browser: Browser, demo_server: str, under_way: str
) -> None:
    context = _person(browser, demo_server, TUTOR, FAILS)
    try:
        page = _enter(context, under_way)
        button = page.locator("#toggle-captions")
        expect(button).to_have_text("Caption my speech")
        button.click()
        expect(button).to_have_text("Captions unavailable")
        expect(button).to_have_attribute("aria-disabled", "true")
        expect(page.locator("#captions-reason")).to_have_text(
            "Captions are unavailable in this browser: this browser's speech recognition "
            "service could not be reached. You still see the captions others make, and the "
            "chat works as always."
        )
        expect(page.locator("#captions-reason")).to_have_attribute("role", "status")
        page.locator("#chat-text").fill("Captions are off here; I will type.")
        page.keyboard.press("Enter")
        expect(page.locator("#chat-log")).to_contain_text("Captions are off here; I will type.")
        assert _same_load(page)
    finally:
        close_context(context)
