"""Two real Chromiums in the online classroom: a WebRTC call with fake camera and microphone,
then both ways of leaving it (rule 4 of "Completing a session").

WebRTC gathers candidates on every network interface, so these tests run only inside a
loopback-only network namespace, where nothing can leave 127.0.0.1:

    unshare -n sh -c 'ip link set lo up && .venv/bin/pytest -q -m webrtc tests/e2e'
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from studyhall.testing.browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    WEBRTC_FLAGS,
    close_browser,
    close_context,
)

# Logged lines only show when a test fails: then the browsers' console helps.
log = logging.getLogger(__name__)

# Networks other than loopback would let ICE reach beyond this machine.
INTERFACES = sorted(name for _, name in socket.if_nameindex())

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.webrtc,
    pytest.mark.skipif(
        INTERFACES != ["lo"],
        reason=(
            "the WebRTC browser test runs only in a loopback-only network namespace (found "
            f"{', '.join(INTERFACES)}); run: unshare -n sh -c 'ip link set lo up && "
            ".venv/bin/pytest -q -m webrtc tests/e2e'"
        ),
    ),
]

PASSWORD = "studyhall-demo"
TUTOR, STUDENT = "tutor@demo.test", "student@demo.test"
TUTOR_NAME, STUDENT_NAME = "Jordan Rivera", "Maya Chen"
FULL_RECAP = {
    "topics_covered": "Related rates: the expanding circle and the sliding ladder, setting up "
    "each problem from a sketch before differentiating.",
    "tutee_progress": "Maya set up the ladder problem on her own and caught a sign error.",
    "next_steps": "Try problems 5-11 in section 3.9 before Friday.",
}

CONNECTED_TO_ONE_PEER = """() => {
  const call = window.studyhallClassroom;
  if (!call || !call.connected) return false;
  const peers = Object.values(call.peers);
  return peers.length === 1 && peers[0].connectionState === "connected";
}"""
# Video really arrives: frames keep being presented and the picture has a size.
RECEIVING_VIDEO = """(atLeast) => {
  const peers = Object.values(window.studyhallClassroom.peers);
  return peers.length === 1 && peers[0].frames >= atLeast && peers[0].videoWidth > 0;
}"""


# Lets a test cut the page's WebSocket the way a network drop would (a close that is not a
# leave), without giving the page itself a way in.
KEEP_SOCKETS = """(() => {
  const sockets = [];
  window.__classroomSockets = () => sockets.filter((s) => s.url.includes("/classroom/"));
  window.WebSocket = class extends window.WebSocket {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  };
})();"""


def console_printer(who: str) -> Callable[[ConsoleMessage], None]:
    def show(message: ConsoleMessage) -> None:
        log.warning("%s console %s: %s", who, message.type, message.text)

    return show


@pytest.fixture(scope="module")
def webrtc_browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, *WEBRTC_FLAGS]
        )
        try:
            yield browser
        finally:
            close_browser(browser)


@pytest.fixture
def people(webrtc_browser: Browser) -> Iterator[tuple[Page, Page]]:
    """The tutor's and the student's browsers, each its own context (cookies, storage)."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    for _ in range(2):
        # The browsers' clocks are in Tokyo; the demo accounts are in New York.
        context = webrtc_browser.new_context(
            viewport={"width": 1280, "height": 900}, timezone_id="Asia/Tokyo"
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        context.add_init_script(KEEP_SOCKETS)
        page = context.new_page()
        page.on("console", console_printer("tutor" if not pages else "student"))
        pages.append(page)
    try:
        yield pages[0], pages[1]
    finally:
        for context in contexts:
            close_context(context)


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.locator('form button[type="submit"]').first.click()
    expect(page).to_have_url(re.compile(r"/sessions/$"))


def session_url(tutor: Page, base: str, *texts: str) -> str:
    """The details page of the one session in the tutor's Needs completion with `texts`."""
    row = tutor.locator("#needs-completion li")
    for text in texts:
        row = row.filter(has_text=text)
    expect(row).to_have_count(1)
    href = row.get_by_role("link").first.get_attribute("href")
    assert href is not None
    return f"{base}{href}"


def join(page: Page, details: str) -> None:
    page.goto(details)
    page.get_by_role("link", name="Join online classroom").click()
    expect(page).to_have_url(re.compile(r"/classroom/$"))


def describe_call(page: Page) -> str:
    """What a page's call looks like, for the report of a failed wait."""
    state = page.evaluate(
        """() => JSON.stringify({
          me: window.studyhallClassroom?.peerId,
          connected: window.studyhallClassroom?.connected,
          peers: window.studyhallClassroom?.peers,
          status: document.getElementById("call-status")?.textContent,
        })"""
    )
    return f"{page.url}: {state}"


def in_call_together(tutor: Page, student: Page) -> None:
    try:
        for page in (tutor, student):
            page.wait_for_function(CONNECTED_TO_ONE_PEER)
    except PlaywrightTimeoutError:
        log.warning("tutor %s; student %s", describe_call(tutor), describe_call(student))
        raise
    for page in (tutor, student):
        page.wait_for_function(RECEIVING_VIDEO, arg=10)
    # Video needs no mercy from the server, but counting keeps going: it is live, not a still.
    first = tutor.evaluate("() => window.studyhallClassroom.receivedFrames()")
    tutor.wait_for_function(
        "(before) => window.studyhallClassroom.receivedFrames() > before + 5", arg=first
    )


def hang_up(page: Page, choice: str) -> None:
    page.get_by_role("button", name="Hang up").click()
    page.get_by_role("button", name=choice, exact=True).click()


def test_call_then_student_leaves_and_tutor_leaves_to_complete(
    demo_server: str, people: tuple[Page, Page]
) -> None:
    tutor, student = people
    sign_in(tutor, demo_server, TUTOR)
    sign_in(student, demo_server, STUDENT)
    details = session_url(tutor, demo_server, "CS 101")
    join(tutor, details)
    join(student, details)
    in_call_together(tutor, student)

    # A dropped connection comes back by itself under the same peer id, within the presence
    # timeout: nobody saw Maya leave, and the video between the browsers never stopped.
    maya = student.evaluate("() => window.studyhallClassroom.peerId")
    frames_before = tutor.evaluate("(maya) => window.studyhallClassroom.receivedFrames(maya)", maya)
    student.evaluate("() => window.__classroomSockets().at(-1).close(3000)")
    expect(student.locator("#call-status")).to_contain_text("reconnecting")
    student.wait_for_function(
        "() => window.__classroomSockets().length === 2 && window.studyhallClassroom.connected"
    )
    assert student.evaluate("() => window.studyhallClassroom.peerId") == maya
    expect(student.locator("#call-status")).to_have_text("You are in the call with 1 other person.")
    tutor_view = tutor.evaluate("() => window.studyhallClassroom.peers")
    assert list(tutor_view) == [maya]
    assert tutor_view[maya]["connectionState"] == "connected"
    assert tutor_view[maya]["frames"] > frames_before

    # Each sees the other's tile with their name, and the participant list.
    expect(tutor.locator(".tile").filter(has_text=STUDENT_NAME)).to_have_count(1)
    expect(student.locator(".tile").filter(has_text=f"{TUTOR_NAME} (tutor)")).to_have_count(1)
    expect(tutor.locator("#people li.people__in").filter(has_text=STUDENT_NAME)).to_have_count(1)

    # Mute shows on the other side; chat text arrives as text, never as markup.
    student.get_by_role("button", name="Mute").click()
    expect(tutor.locator(".tile").filter(has_text=STUDENT_NAME)).to_contain_text("(muted)")
    student.get_by_label("Message", exact=True).fill("Is <b>this</b> right?")
    student.get_by_role("button", name="Send").click()
    expect(tutor.locator("#chat-log")).to_contain_text(f"{STUDENT_NAME}")
    expect(tutor.locator("#chat-log .chat__text")).to_have_text("Is <b>this</b> right?")
    expect(tutor.locator("#chat-log b")).to_have_count(0)
    # Its time is in the account's zone (New York), not the browser's (Tokyo).
    stamp = tutor.locator("#chat-log .chat__time").first
    sent_at = datetime.fromisoformat(str(stamp.get_attribute("datetime")).replace("Z", "+00:00"))
    in_new_york = sent_at.astimezone(ZoneInfo("America/New_York"))
    expect(stamp).to_have_text(in_new_york.strftime("%-I:%M %p"))

    # Students only get Leave call; leaving lands on the session page.
    student.get_by_role("button", name="Hang up").click()
    expect(student.get_by_role("button", name="Log time & leave call")).to_have_count(0)
    student.get_by_role("button", name="Leave call", exact=True).click()
    expect(student).to_have_url(details)
    # The tutor's call drops Maya's tile and connection.
    expect(tutor.locator(".tile").filter(has_text=STUDENT_NAME)).to_have_count(0)
    tutor.wait_for_function("() => Object.keys(window.studyhallClassroom.peers).length === 0")

    hang_up(tutor, "Leave call")
    expect(tutor).to_have_url(details)
    expect(tutor.get_by_role("link", name="Complete Session")).to_be_visible()


def test_tutor_leaves_first_and_complete_appears_when_the_student_leaves(
    demo_server: str, people: tuple[Page, Page]
) -> None:
    tutor, student = people
    sign_in(tutor, demo_server, TUTOR)
    sign_in(student, demo_server, STUDENT)
    details = session_url(tutor, demo_server, "CS 101")
    join(tutor, details)
    join(student, details)
    in_call_together(tutor, student)

    hang_up(tutor, "Leave call")
    expect(tutor).to_have_url(details)
    panel = tutor.locator("#complete-panel")
    expect(panel).to_contain_text(f"{STUDENT_NAME} is still in the call.")
    expect(tutor.get_by_role("link", name="Complete Session")).to_have_count(0)
    # Maya's call lost the tutor.
    student.wait_for_function("() => Object.keys(window.studyhallClassroom.peers).length === 0")

    hang_up(student, "Leave call")
    expect(student).to_have_url(details)
    # No reload: the panel asks again every 5 seconds.
    expect(tutor.get_by_role("link", name="Complete Session")).to_be_visible(timeout=12_000)
    expect(panel).not_to_contain_text("still in the call")


def test_tutor_logs_time_from_the_call_and_it_ends_for_the_student(
    demo_server: str, people: tuple[Page, Page]
) -> None:
    tutor, student = people
    sign_in(tutor, demo_server, TUTOR)
    sign_in(student, demo_server, STUDENT)
    details = session_url(tutor, demo_server, "MATH 151", "Online")
    join(tutor, details)
    join(student, details)
    in_call_together(tutor, student)

    hang_up(tutor, "Log time & leave call")
    dialog = tutor.get_by_role("dialog", name="Log time & leave call")
    expect(dialog).to_be_visible()
    # Pre-filled with the measured time: a few seconds together, rounded up to 5 minutes.
    expect(dialog.get_by_label("Time spent")).to_have_value("5")
    expect(dialog).to_contain_text("suggested 5 min.")

    # Refused: the pop-up stays open with the reason and everything typed.
    dialog.get_by_label("Topics covered").fill("Related rates.")
    dialog.get_by_label("How your tutee did").fill("Fine.")
    dialog.get_by_label("Next steps").fill("Practice.")
    expect(dialog).to_contain_text("28 / 150 characters — 122 more needed")
    dialog.get_by_role("button", name="Log time & leave call").click()
    expect(dialog.get_by_role("alert")).to_contain_text("it needs at least 150")
    expect(dialog.get_by_label("Topics covered")).to_have_value("Related rates.")
    expect(student.locator("#call-notice")).to_be_hidden()

    # Half an hour against a few seconds measured: the pop-up asks the tutor to confirm first.
    dialog.get_by_label("Time spent").select_option("30")
    for label, key in (
        ("Topics covered", "topics_covered"),
        ("How your tutee did", "tutee_progress"),
        ("Next steps", "next_steps"),
    ):
        dialog.get_by_label(label).fill(FULL_RECAP[key])
    confirm = dialog.get_by_label("The time I chose is right: log it anyway")
    expect(confirm).to_be_hidden()
    dialog.get_by_role("button", name="Log time & leave call").click()
    warning = dialog.get_by_role("alert")
    expect(warning).to_contain_text("You are logging 30 min, but the classroom measured")
    expect(warning).to_contain_text("with you and a student together.")
    expect(confirm).to_be_visible()
    expect(student.locator("#call-notice")).to_be_hidden()

    # A shorter time fits what was measured and needs no confirmation.
    dialog.get_by_label("Time spent").select_option("10")
    dialog.get_by_role("button", name="Log time & leave call").click()

    # The student is told, then taken to the session page, where the recap now shows.
    expect(student.locator("#call-notice")).to_contain_text("The tutor completed the session.")
    expect(student).to_have_url(details)
    expect(student.locator("main")).to_contain_text("Completed")
    expect(student.locator("main")).to_contain_text(FULL_RECAP["next_steps"])

    # $15.00/h × 10 min.
    expect(tutor).to_have_url(details)
    expect(tutor.locator("main")).to_contain_text("Session completed — $2.50 deposited")
    expect(tutor.locator("main .badge").first).to_have_text("Completed")
    expect(tutor.get_by_role("link", name="Join online classroom")).to_have_count(0)
    expect(tutor.locator("#classroom-entry")).to_contain_text("its classroom is closed")
