"""Reaching Support without signing in, in the browser: a visitor on the sign-in page opens
the bubble's contact form, fixes a bad email, and sends; an agent finds the message in the
inbox marked "not signed in", replies (the reply's email is queued), and closes it — the
conversation's header following each step without a reload."""

from __future__ import annotations

import re
from contextlib import suppress

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Route, expect

from studyhall.testing.second_factor import pass_second_factor
from studyhall.tutoring.management.commands.seed_demo import DEMO_TOTP_SECRET
from tests.e2e.conftest import NewPage, run_in_demo

pytestmark = pytest.mark.e2e


def test_a_visitor_reaches_support_and_an_agent_answers(
    demo_server: str, new_page: NewPage
) -> None:
    visitor = new_page()
    visitor.goto(f"{demo_server}/accounts/login/")
    visitor.evaluate("window.__sameDocument = true")
    bubble = visitor.get_by_role("button", name="Contact Support")
    expect(bubble).to_have_attribute("aria-expanded", "false")
    bubble.focus()
    visitor.keyboard.press("Enter")
    expect(bubble).to_have_attribute("aria-expanded", "true")
    dialog = visitor.get_by_role("dialog", name="Contact Support")
    expect(dialog).to_be_visible()
    name = dialog.get_by_label("Your name")
    expect(name).to_be_focused()
    name.fill("Jordan Visitor")
    dialog.get_by_label("Email to answer to").fill("jordan.visitor@college")
    dialog.get_by_label("How can we help?").fill("My password reset email never arrives.")
    dialog.get_by_role("button", name="Send to Support").click()
    email = dialog.get_by_label("Email to answer to")
    expect(dialog).to_contain_text("That is not an email address we can answer to")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    # What was typed stays; fix the email and send again.
    expect(dialog.get_by_label("How can we help?")).to_have_value(
        "My password reset email never arrives."
    )
    email.fill("jordan.visitor@college.edu")
    dialog.get_by_role("button", name="Send to Support").click()
    expect(dialog.locator("#support-contact-result")).to_have_text(
        "Thanks — your message is with Studyhall Support. We answer by email, usually within "
        "a working day."
    )
    visitor.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(bubble).to_be_focused()
    assert visitor.evaluate("window.__sameDocument") is True

    agent = new_page()
    agent.goto(f"{demo_server}/accounts/login/")
    agent.fill('input[name="login"]', "support@demo.test")
    agent.fill('input[name="password"]', "studyhall-demo")
    agent.locator('form button[type="submit"]').first.click()
    pass_second_factor(agent, DEMO_TOTP_SECRET)
    expect(agent.locator("h1")).to_have_text("Sessions you're handling")
    agent.get_by_role("navigation", name="Main").get_by_role("link", name="Support inbox").click()
    conversations = agent.locator("#conversations")
    expect(conversations).to_contain_text("Not signed in")
    expect(conversations).to_contain_text("jordan.visitor@college.edu")
    conversations.get_by_role("link", name="Jordan Visitor").click()
    main = agent.locator("main")
    expect(main.locator("h1")).to_have_text("Jordan Visitor Not signed in")
    expect(main).to_contain_text("My password reset email never arrives.")
    expect(agent.locator("#support-chat")).to_have_attribute("data-live", "true")
    agent.evaluate("window.__sameDocument = true")
    header = agent.locator("#conversation-header")
    expect(header).to_have_attribute("aria-live", "polite")
    expect(header).to_contain_text("Unassigned.")

    reply = agent.get_by_label("Reply to Jordan Visitor")
    reply.fill("Sorry about that, Jordan: we have sent a new link.")
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.locator("#support-conversation-log")).to_contain_text("we have sent a new link")
    # Answering picked the conversation up: the header says so without a reload.
    expect(header).to_contain_text("Assigned to you.")
    queued = run_in_demo(
        "from django_tasks_db.models import DBTaskResult; "
        "print(DBTaskResult.objects.filter("
        "task_path='studyhall.support.services.notify.send_visitor_reply').count())"
    )
    assert queued == "1"

    # The header refreshes itself when the conversation changes, on the agent's own close too.
    # The first of those refreshes is held on its way: the agent reopens meanwhile, and her
    # action goes at once instead of waiting behind it (the refresh is older than its answer).
    held: list[Route] = []

    def hold_first_refresh(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    def is_refresh(url: str) -> bool:
        return url.endswith("?part=header")

    agent.route(is_refresh, hold_first_refresh)
    with agent.expect_request(lambda request: is_refresh(request.url)):
        agent.get_by_role("button", name="Close conversation").click()
    expect(header.locator("#conversation-status")).to_have_text("Closed")
    expect(agent.locator("#conversation-announce")).to_have_text(
        "The conversation is closed. The user's next message starts a new one."
    )
    expect(agent.get_by_role("button", name="Reopen conversation")).to_be_visible()
    expect(reply).to_be_hidden()
    agent.get_by_role("button", name="Reopen conversation").click()
    expect(header.locator("#conversation-status")).to_have_text("Open")
    expect(reply).to_be_visible()
    assert len(held) == 1
    with suppress(PlaywrightError):  # the page has abandoned it
        held[0].continue_()
    agent.unroute(is_refresh)
    assert agent.evaluate("window.__sameDocument") is True
    assert re.search(r"/support/inbox/\d+/$", agent.url)
