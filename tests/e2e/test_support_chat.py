"""Support in the browser: a student opens the chat bubble and writes; an agent answers from the
support inbox in another browser; the student sees the answer arrive without reloading. Then
the demo's "done": the tutor asks Support to log the session whose grace period closed, the
agent approves it from the inbox, and the tutor sees it completed and paid."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from studyhall.testing.second_factor import pass_second_factor
from studyhall.tutoring.management.commands.seed_demo import DEMO_TOTP_SECRET
from tests.e2e.conftest import NewPage

pytestmark = pytest.mark.e2e

RECAP = {
    "topics_covered": "Stoichiometry: mole ratios, limiting reagents and percent yield, with "
    "four problems from the lab manual.",
    "tutee_progress": "Maya set up every ratio herself and caught one unit mistake on her own.",
    "next_steps": "Finish the chapter 4 practice set before the next lab.",
}


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', "studyhall-demo")
    page.locator('form button[type="submit"]').first.click()
    # The support agent is asked for the code of their authenticator app.
    pass_second_factor(page, DEMO_TOTP_SECRET)
    expect(page).to_have_url(re.compile(r"/sessions/$"))


def test_a_user_chats_with_support_live(demo_server: str, new_page: NewPage) -> None:
    maya = new_page()
    sign_in(maya, demo_server, "student@demo.test")
    expect(maya.locator("#support-chat")).to_have_attribute("data-live", "true")
    # Anything that survives on `window` proves the page never reloaded.
    maya.evaluate("window.__sameDocument = true")

    bubble = maya.get_by_role("button", name=re.compile("Chat with Support"))
    expect(bubble).to_have_attribute("aria-expanded", "false")
    bubble.click()
    expect(bubble).to_have_attribute("aria-expanded", "true")
    panel = maya.get_by_role("dialog", name="Chat with Support")
    expect(panel).to_be_visible()
    box = maya.get_by_label("Message to Support")
    expect(box).to_be_focused()
    box.fill("Hi! My CHEM 110 session from Monday is not in my list.")
    box.press("Enter")
    # The messages are a polite log: new ones are read out, focus stays in the box.
    region = panel.get_by_role("log", name="Messages with Support")
    expect(region).to_have_attribute("aria-live", "polite")
    log = region.locator("#support-chat-log")
    expect(log).to_contain_text("My CHEM 110 session from Monday is not in my list.")
    expect(box).to_have_value("")

    agent = new_page()
    sign_in(agent, demo_server, "support@demo.test")
    agent.goto(f"{demo_server}/support/inbox/")
    conversations = agent.locator("#conversations")
    expect(conversations).to_contain_text("Maya Chen")
    expect(conversations).to_contain_text("waiting")
    conversations.get_by_role("link", name="Maya Chen").click()
    expect(agent.locator("main")).to_contain_text("About Maya Chen")
    expect(agent.locator("main")).to_contain_text("Demo University: Student")
    agent.get_by_label("Reply to Maya Chen").fill("Thanks Maya, let me look that up.")
    agent.get_by_role("button", name="Send reply").click()
    thread = agent.get_by_role("log", name="Messages", exact=True)
    expect(thread).to_have_attribute("aria-live", "polite")
    expect(thread.locator("#support-conversation-log")).to_contain_text("let me look that up")

    # Maya sees the reply arrive in the open panel.
    expect(log).to_contain_text("Robin Support (Support)")
    expect(log).to_contain_text("Thanks Maya, let me look that up.")
    expect(box).to_be_focused()
    expect(maya.locator("#support-chat-unread")).to_be_hidden()

    # Escape closes the panel and gives focus back to the bubble; a reply then shows as unread.
    maya.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(bubble).to_be_focused()
    agent.get_by_label("Reply to Maya Chen").fill("Found it: it is under Past.")
    agent.get_by_role("button", name="Send reply").click()
    badge = maya.locator("#support-chat-unread")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("1")
    expect(bubble).to_have_attribute("aria-label", "Chat with Support, 1 unread reply")
    maya.keyboard.press("Enter")  # the focused bubble opens it again
    expect(log).to_contain_text("Found it: it is under Past.")
    expect(badge).to_be_hidden()
    assert maya.evaluate("window.__sameDocument") is True


def test_the_chat_works_on_a_phone(demo_server: str, new_page: NewPage) -> None:
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(phone, demo_server, "student2@demo.test")
    expect(phone.locator("#support-chat")).to_have_attribute("data-live", "true")
    bubble = phone.get_by_role("button", name=re.compile("Chat with Support"))
    expect(bubble).to_be_visible()
    box = bubble.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
    bubble.tap()
    panel = phone.get_by_role("dialog", name="Chat with Support")
    expect(panel).to_be_visible()
    area = panel.bounding_box()
    assert area is not None and area["width"] >= 380  # a sheet across the screen
    phone.get_by_label("Message to Support").fill("Sent from my phone")
    phone.get_by_role("button", name="Send").click()
    expect(phone.locator("#support-chat-log")).to_contain_text("Sent from my phone")
    phone.get_by_role("button", name="Close the chat").tap()
    expect(panel).to_be_hidden()


def test_the_tutor_asks_support_to_log_a_late_session(demo_server: str, new_page: NewPage) -> None:
    tutor = new_page()
    sign_in(tutor, demo_server, "tutor@demo.test")
    needs = tutor.locator("#needs-completion")
    expect(needs).to_contain_text(re.compile(r"Logging closed \d+ hours ago"))
    needs.get_by_role("link", name="Ask Support to log this session").click()
    expect(tutor.locator("h1")).to_have_text("Ask Support to log this session")
    tutor.get_by_label("Time spent").select_option("55")
    tutor.get_by_label("Topics covered").fill(RECAP["topics_covered"])
    tutor.get_by_label("How your tutee did").fill(RECAP["tutee_progress"])
    tutor.get_by_label("Next steps").fill(RECAP["next_steps"])
    tutor.get_by_label("Why is it late?").fill("I was at a conference and forgot to log it.")
    tutor.get_by_role("button", name="Send to Support").click()
    expect(tutor.locator("#late-log-status")).to_have_text("Waiting for Support")
    session_link = tutor.locator("main").get_by_role("link", name=re.compile("CHEM 110"))
    session_url = session_link.get_attribute("href")
    assert session_url

    agent = new_page()
    sign_in(agent, demo_server, "support@demo.test")
    agent.goto(f"{demo_server}/support/inbox/")
    requests = agent.locator("#late-log-requests")
    requests.get_by_role("link", name=re.compile("CHEM 110 with Jordan Rivera")).click()
    expect(agent.locator("main")).to_contain_text("I was at a conference and forgot to log it.")
    agent.get_by_role("button", name="Approve and log the session").click()
    expect(agent.locator("body")).to_contain_text(
        "Session logged for Jordan Rivera: $13.75 deposited"
    )

    tutor.goto(f"{demo_server}{session_url}")
    main = tutor.locator("main")
    expect(main).to_contain_text("Completed")
    expect(main).to_contain_text("$13.75")
    expect(main).to_contain_text("by Robin Support for the tutor")
    tutor.get_by_role("link", name="Session history").click()
    history = tutor.locator("#session-history")
    expect(history).to_contain_text("Asked Support to log the session (55 min)")
    expect(history).to_contain_text("Completed the session on the tutor's behalf")


def test_without_a_socket_the_chat_polls(demo_server: str, new_page: NewPage) -> None:
    sam = new_page()
    # Every socket is refused, as behind a proxy that does not pass WebSockets.
    sam.route_web_socket(re.compile(r".*/ws/support/chat/"), lambda socket: socket.close())
    sign_in(sam, demo_server, "student2@demo.test")
    expect(sam.locator("#support-chat")).to_have_attribute("data-live", "false")
    sam.evaluate("window.__sameDocument = true")
    sam.get_by_role("button", name=re.compile("Chat with Support")).click()
    box = sam.get_by_label("Message to Support")
    box.fill("Is anyone there? My socket is blocked.")
    box.press("Enter")
    log = sam.locator("#support-chat-log")
    expect(log).to_contain_text("My socket is blocked.")
    expect(sam.locator("#support-chat")).to_have_attribute("data-live", "false")

    agent = new_page()
    sign_in(agent, demo_server, "support@demo.test")
    agent.goto(f"{demo_server}/support/inbox/")
    agent.locator("#conversations").get_by_role("link", name="Sam Lee").click()
    agent.get_by_label("Reply to Sam Lee").fill("Yes, we are here (by polling).")
    agent.get_by_role("button", name="Send reply").click()

    expect(log).to_contain_text("Yes, we are here (by polling).", timeout=15_000)
    assert sam.evaluate("window.__sameDocument") is True
