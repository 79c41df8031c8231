"""Support's pages: the bubble on every page, the chat endpoints, the inbox, late logging from
the session page to the agent's approval, corrections, and a session's history — with who may
see and do what, for every role, and bad input that never becomes a server error."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import Transfer
from studyhall.ledger.selectors import balances_of
from studyhall.support.models import (
    Conversation,
    CorrectionProposal,
    CorrectionStatus,
    LateLogRequest,
    Message,
    ProposalKind,
    RequestStatus,
)
from studyhall.support.services import chat
from studyhall.support.services.corrections import propose_correction
from studyhall.support.services.late_logging import request_late_log
from studyhall.testing.factories import GOOD_RECAP
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.models import Completion, Session, Status
from studyhall.tutoring.services.completion import complete_session

ROLES = ["tutor", "student", "student2", "other_tutor", "admin", "agent", "outsider"]
HTMX = {"HX-Request": "true"}
REASON = "I was away at a conference and forgot to log it."


def as_user(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def html_of(response: Any) -> str:
    return response.content.decode()


def late_form(**overrides: str) -> dict[str, str]:
    return {"minutes": "55", **GOOD_RECAP, "reason": REASON, **overrides}


@pytest.fixture
def completed(cast: Cast, ready: Session) -> Session:
    complete_session(session_id=ready.pk, actor=cast.tutor, minutes=55, recap=GOOD_RECAP)
    ready.refresh_from_db()
    return ready


@pytest.fixture
def late_request(cast: Cast, late: Session) -> LateLogRequest:
    return request_late_log(
        actor=cast.tutor, session_id=late.pk, minutes=55, recap=GOOD_RECAP, reason=REASON
    )


@pytest.fixture
def conversation(cast: Cast) -> Conversation:
    return chat.post_user_message(actor=cast.student, body="Where is my invitation?").conversation


# -- The bubble ------------------------------------------------------------------------------


def test_every_signed_in_page_has_the_bubble(client: Client, cast: Cast) -> None:
    for user, url in [
        (cast.tutor, reverse("tutoring:sessions")),
        (cast.student, reverse("ledger:transactions")),
    ]:
        html = html_of(as_user(client, user).get(url))
        assert 'id="support-chat-toggle"' in html
        assert 'aria-expanded="false" aria-controls="support-chat-panel"' in html
        assert 'src="/static/support/chat.js"' in html
        assert 'id="support-chat-panel" role="dialog"' in html
    agent_html = html_of(as_user(client, cast.agent).get(reverse("tutoring:sessions")))
    assert f'href="{reverse("support:inbox")}" aria-label="Support inbox"' in agent_html


@pytest.mark.parametrize("page", ["account_login", "account_signup", "account_reset_password"])
def test_signed_out_pages_have_the_contact_bubble(client: Client, db: None, page: str) -> None:
    html = html_of(client.get(reverse(page)))
    assert (
        '<a class="support-chat__bubble" id="support-contact-toggle" href="/support/contact/"'
        in html
    )
    assert 'aria-controls="support-contact-panel"' in html
    assert 'id="support-contact-panel" role="dialog"' in html
    assert 'src="/static/support/contact.js"' in html
    # No chat for someone not signed in: no socket, no conversation.
    assert 'id="support-chat"' not in html and "chat.js" not in html


def test_the_bubble_costs_no_query(client: Client, cast: Cast) -> None:
    as_user(client, cast.student)
    chat.post_user_message(actor=cast.student, body="Hi")
    # The unread count comes over the socket; the page itself never asks Support's tables.
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("tutoring:sessions"))
    assert 'id="support-chat-toggle"' in html_of(response)
    assert not [q["sql"] for q in queries.captured_queries if '"support_' in q["sql"]]


# -- The chat endpoints ----------------------------------------------------------------------


def test_a_user_writes_and_reads_their_conversation(client: Client, cast: Cast) -> None:
    as_user(client, cast.tutor)
    response = client.post(reverse("support:chat_send"), {"body": "Hello Support"}, headers=HTMX)
    assert response.status_code == 200
    message = Message.objects.get()
    html = html_of(response)
    assert '<ol id="support-chat-log" hx-swap-oob="beforeend">' in html
    assert f'id="support-msg-{message.pk}"' in html and "Hello Support" in html
    assert '<span class="support-msg__author">You</span>' in html

    chat.post_agent_reply(actor=cast.agent, conversation_id=message.conversation_id, body="Hi!")
    panel = html_of(client.get(reverse("support:chat_panel"), headers=HTMX))
    assert "Hello Support" in panel and "Sue Support (Support)" in panel
    # The poll brings what is newer than the last shown message, and the unread count.
    poll = html_of(client.get(reverse("support:chat_poll"), {"after": message.pk}, headers=HTMX))
    assert "Hi!" in poll and "Hello Support" not in poll
    assert re.search(r'data-count="1" hx-swap-oob="outerHTML"', poll)
    # Before the panel was opened (after=-1) the poll brings only the count.
    closed_poll = html_of(client.get(reverse("support:chat_poll"), {"after": "-1"}, headers=HTMX))
    assert "Hi!" not in closed_poll and 'data-count="1"' in closed_poll
    assert client.post(reverse("support:chat_seen")).status_code == 204
    poll = html_of(client.get(reverse("support:chat_poll"), {"after": "0"}, headers=HTMX))
    assert 'data-count="0"' in poll
    # The full page shows the same conversation.
    page = html_of(client.get(reverse("support:chat")))
    assert "Hello Support" in page and "Hi!" in page


def test_without_javascript_the_chat_page_posts_and_redirects(client: Client, cast: Cast) -> None:
    as_user(client, cast.student)
    response = client.post(reverse("support:chat_send"), {"body": "Plain form"})
    assert response.status_code == 302 and response["Location"] == reverse("support:chat")
    assert Message.objects.get().body == "Plain form"


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ("", 400, "Type a message first."),
        ("   ", 400, "Type a message first."),
        ("x" * 2001, 400, "keep it under 2,000"),
        ("nul\x00", 400, "could not be read"),
    ],
)
def test_bad_messages_say_why_and_write_nothing(
    client: Client, cast: Cast, body: str, status: int, text: str
) -> None:
    as_user(client, cast.student)
    response = client.post(reverse("support:chat_send"), {"body": body}, headers=HTMX)
    assert response.status_code == status
    assert text in html_of(response)
    assert Message.objects.count() == 0 and Conversation.objects.count() == 0


def test_a_user_never_sees_another_users_messages(
    client: Client, cast: Cast, conversation: Conversation
) -> None:
    as_user(client, cast.tutor)
    for response in (
        client.get(reverse("support:chat_panel"), headers=HTMX),
        client.get(reverse("support:chat_poll"), {"after": "0"}, headers=HTMX),
        client.get(reverse("support:chat")),
    ):
        assert "Where is my invitation?" not in html_of(response)


@pytest.mark.parametrize("after", ["abc", "1e9", "-5", "", "99999999999999999999999"])
def test_odd_poll_values_are_harmless(client: Client, cast: Cast, after: str) -> None:
    as_user(client, cast.student)
    assert (
        client.get(reverse("support:chat_poll"), {"after": after}, headers=HTMX).status_code == 200
    )


def test_chat_needs_sign_in(client: Client, db: None) -> None:
    for name in ("chat", "chat_panel", "chat_poll"):
        response = client.get(reverse(f"support:{name}"))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(reverse("support:chat_send"), {"body": "x"}).status_code == 302
    assert Message.objects.count() == 0


def test_agents_are_sent_to_the_inbox(client: Client, cast: Cast) -> None:
    as_user(client, cast.agent)
    response = client.get(reverse("support:chat"))
    assert response["Location"] == reverse("support:inbox")
    refused = client.post(reverse("support:chat_send"), {"body": "Hi"}, headers=HTMX)
    assert refused.status_code == 400
    assert "answer from the support inbox" in html_of(refused)
    assert Message.objects.count() == 0


# -- The inbox -------------------------------------------------------------------------------


def test_the_inbox_lists_conversations_requests_and_corrections(
    client: Client,
    cast: Cast,
    conversation: Conversation,
    late_request: LateLogRequest,
    completed: Session,
    agent2: User,
) -> None:
    proposal = propose_correction(
        actor=agent2, session_id=completed.pk, kind="void", minutes=None, reason="Duplicate"
    )
    html = html_of(as_user(client, cast.agent).get(reverse("support:inbox")))
    assert "1 waiting for an answer · 1 open" in html
    assert reverse("support:conversation", args=[conversation.pk]) in html
    assert "Where is my invitation?" in html and "Maya Chen" in html
    assert reverse("support:late_log_detail", args=[late_request.pk]) in html
    assert reverse("support:correction_detail", args=[proposal.pk]) in html
    part = client.get(reverse("support:inbox"), {"view": "closed", "part": "list"}, headers=HTMX)
    assert html_of(part).startswith('\n    <div id="inbox-lists"') or 'id="inbox-lists"' in html_of(
        part
    )
    assert "<html" not in html_of(part)
    assert client.get(reverse("support:inbox"), {"view": "bogus"}).status_code == 200


def test_an_agent_answers_assigns_and_closes_from_the_conversation(
    client: Client, cast: Cast, conversation: Conversation, late: Session, agent2: User
) -> None:
    as_user(client, cast.agent)
    page = html_of(client.get(reverse("support:conversation", args=[conversation.pk])))
    # The user's context beside the conversation.
    assert "About Maya Chen" in page
    assert "Test College: Student" in page
    assert "CHEM 110" in page and "Logging closed 8 hours ago" in page
    assert "No earnings" in page

    response = client.post(
        reverse("support:reply", args=[conversation.pk]),
        {"body": "It is on its way."},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert 'id="support-conversation-log" hx-swap-oob="beforeend"' in html_of(response)
    conversation.refresh_from_db()
    assert conversation.assigned_to == cast.agent and conversation.waiting_since is None

    client.post(reverse("support:assign", args=[conversation.pk]), {"agent": str(agent2.pk)})
    conversation.refresh_from_db()
    assert conversation.assigned_to == agent2
    bad = client.post(reverse("support:assign", args=[conversation.pk]), {"agent": "nobody"})
    assert bad.status_code == 302
    conversation.refresh_from_db()
    assert conversation.assigned_to == agent2

    client.post(reverse("support:close", args=[conversation.pk]))
    conversation.refresh_from_db()
    assert not conversation.is_open
    refused = client.post(
        reverse("support:reply", args=[conversation.pk]), {"body": "x"}, headers=HTMX
    )
    assert refused.status_code == 409 and "reopen it to answer" in html_of(refused)
    client.post(reverse("support:reopen", args=[conversation.pk]))
    conversation.refresh_from_db()
    assert conversation.is_open
    poll = client.get(
        reverse("support:conversation_poll", args=[conversation.pk]), {"after": "0"}, headers=HTMX
    )
    assert "It is on its way." in html_of(poll)


def test_unknown_conversations_are_404_for_agents(client: Client, cast: Cast) -> None:
    as_user(client, cast.agent)
    assert client.get(reverse("support:conversation", args=[999])).status_code == 404
    assert client.post(reverse("support:close", args=[999])).status_code == 404


# -- Who may reach what -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_inbox_pages_are_for_agents_only(
    client: Client,
    cast: Cast,
    who: str,
    conversation: Conversation,
    completed: Session,
    agent2: User,
) -> None:
    proposal = propose_correction(
        actor=agent2, session_id=completed.pk, kind="void", minutes=None, reason="Duplicate"
    )
    as_user(client, getattr(cast, who))
    expected = 200 if who == "agent" else 403
    for url in (
        reverse("support:inbox"),
        reverse("support:conversation", args=[conversation.pk]),
        reverse("support:conversation_poll", args=[conversation.pk]),
        reverse("support:correction_new", args=[completed.pk]),
        reverse("support:correction_detail", args=[proposal.pk]),
    ):
        assert client.get(url).status_code == expected, url
    before = (Message.objects.count(), AuditEntry.objects.count(), Transfer.objects.count())
    if who != "agent":
        for url, data in (
            (reverse("support:reply", args=[conversation.pk]), {"body": "hi"}),
            (reverse("support:assign", args=[conversation.pk]), {"agent": str(cast.agent.pk)}),
            (reverse("support:close", args=[conversation.pk]), {}),
            (reverse("support:reopen", args=[conversation.pk]), {}),
            (reverse("support:correction_new", args=[completed.pk]), {"kind": "void"}),
            (reverse("support:correction_approve", args=[proposal.pk]), {}),
            (reverse("support:correction_reject", args=[proposal.pk]), {"note": "no"}),
        ):
            assert client.post(url, data).status_code == 403, url
        assert (
            Message.objects.count(),
            AuditEntry.objects.count(),
            Transfer.objects.count(),
        ) == before
        assert CorrectionProposal.objects.get().status == CorrectionStatus.PENDING


@pytest.mark.parametrize("who", ROLES)
def test_late_log_pages_by_role(
    client: Client, cast: Cast, who: str, late: Session, agent2: User
) -> None:
    as_user(client, getattr(cast, who))
    new_url = reverse("support:late_log_new", args=[late.pk])
    expected_new = {"tutor": 200, "outsider": 404}.get(who, 403)
    assert client.get(new_url).status_code == expected_new
    posted = client.post(new_url, late_form())
    if who == "tutor":
        assert posted.status_code == 302
    else:
        assert posted.status_code == expected_new
        assert LateLogRequest.objects.count() == 0
        request_late_log(
            actor=cast.tutor, session_id=late.pk, minutes=55, recap=GOOD_RECAP, reason=REASON
        )
    request = LateLogRequest.objects.get()
    detail = client.get(reverse("support:late_log_detail", args=[request.pk]))
    assert detail.status_code == (200 if who in ("tutor", "agent") else 404)
    if who != "agent":
        for name in ("late_log_approve", "late_log_decline"):
            response = client.post(reverse(f"support:{name}", args=[request.pk]), {"reason": "x"})
            assert response.status_code == 403
        request.refresh_from_db()
        assert request.status == RequestStatus.PENDING
        assert Completion.objects.count() == 0


@pytest.mark.parametrize("who", ROLES)
def test_a_sessions_history_by_role(
    client: Client, cast: Cast, who: str, completed: Session
) -> None:
    expected = {"tutor": 200, "admin": 200, "agent": 200, "outsider": 404}.get(who, 403)
    response = as_user(client, getattr(cast, who)).get(
        reverse("support:session_history", args=[completed.pk])
    )
    assert response.status_code == expected
    detail = html_of(client.get(reverse("tutoring:detail", args=[completed.pk])))
    link = reverse("support:session_history", args=[completed.pk])
    if who in ("tutor", "admin", "agent"):
        assert link in detail
    elif who != "outsider":
        assert link not in detail


def test_history_says_who_did_what_when_and_why(
    client: Client, cast: Cast, late_request: LateLogRequest
) -> None:
    as_user(client, cast.agent).post(reverse("support:late_log_approve", args=[late_request.pk]))
    html = html_of(client.get(reverse("support:session_history", args=[late_request.session_id])))
    rows = re.findall(r'<tr data-action="([^"]+)">(.*?)</tr>', html, re.S)
    actions = [action for action, _ in rows]
    assert actions == [
        "support.late_log_requested",
        "session.completed_by_support",
        "support.late_log_approved",
    ]
    requested, completed, approved = (row for _, row in rows)
    assert "Tess Tutor" in requested and "Asked Support to log the session (55 min)" in requested
    assert REASON in requested
    assert (
        "Sue Support" in completed
        and "on the tutor&#x27;s behalf: 55 min logged, $13.75" in completed
    )
    assert f"Late-log request #{late_request.pk}" in completed
    assert "$13.75 paid" in approved


def test_unknown_ids_are_404(client: Client, cast: Cast) -> None:
    as_user(client, cast.agent)
    for url in (
        reverse("support:late_log_detail", args=[999]),
        reverse("support:correction_detail", args=[999]),
        reverse("support:session_history", args=[999]),
        reverse("support:correction_new", args=[999]),
    ):
        assert client.get(url).status_code == 404
    for url in (
        reverse("support:late_log_approve", args=[999]),
        reverse("support:late_log_decline", args=[999]),
        reverse("support:correction_approve", args=[999]),
    ):
        assert client.post(url).status_code == 404
    as_user(client, cast.tutor)
    assert client.get(reverse("support:late_log_new", args=[999])).status_code == 404


# -- Late logging, through the pages -----------------------------------------------------------


def test_late_logging_through_the_pages(
    client: Client,
    cast: Cast,
    late: Session,
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    tutor = Client()
    as_user(tutor, cast.tutor)
    # The Sessions tab and the session page say logging closed, and offer to ask Support.
    tab = html_of(tutor.get(reverse("tutoring:sessions")))
    new_url = reverse("support:late_log_new", args=[late.pk])
    assert "Logging closed 8 hours ago" in tab
    assert f'<a href="{new_url}">Ask Support to log this session</a>' in tab
    page = html_of(tutor.get(reverse("tutoring:detail", args=[late.pk])))
    assert "Logging closed 8 hours ago" in page
    assert "Ask Support to log this session</a>" in page and new_url in page

    # Completing it is refused with the grace-period message.
    refused = tutor.post(
        reverse("tutoring:complete", args=[late.pk]), {"minutes": "55", **GOOD_RECAP}
    )
    assert refused.status_code == 422 and "Logging closed 8 hours ago" in html_of(refused)

    form = html_of(tutor.get(new_url))
    assert "Time spent" in form and "Topics covered" in form and "Why is it late?" in form
    assert '<option value="90">1 h 30 min</option>' in form
    short = tutor.post(new_url, late_form(next_steps="", topics_covered="Short"))
    assert short.status_code == 422 and "is empty" in html_of(short)
    assert "Short" in html_of(short)  # what was typed is kept
    no_reason = tutor.post(new_url, late_form(reason=" "))
    assert no_reason.status_code == 400
    assert "Say why the session was not logged in time." in html_of(no_reason)
    assert LateLogRequest.objects.count() == 0

    sent = tutor.post(new_url, late_form())
    request = LateLogRequest.objects.get()
    assert sent["Location"] == reverse("support:late_log_detail", args=[request.pk])
    # A second submission lands on the same request.
    again = tutor.post(new_url, late_form())
    assert again["Location"] == reverse("support:late_log_detail", args=[request.pk])
    assert LateLogRequest.objects.count() == 1
    tab = html_of(tutor.get(reverse("tutoring:sessions")))
    assert "Support has your request" in tab
    page = html_of(tutor.get(reverse("tutoring:detail", args=[late.pk])))
    assert "You asked Support to log this session" in page

    # The agent sees it in the inbox and on the session, and approves.
    agent = Client()
    as_user(agent, cast.agent)
    detail_url = reverse("support:late_log_detail", args=[request.pk])
    assert detail_url in html_of(agent.get(reverse("support:inbox")))
    assert detail_url in html_of(agent.get(reverse("tutoring:detail", args=[late.pk])))
    review = html_of(agent.get(detail_url))
    assert "Approve and log the session" in review and REASON in review
    with django_capture_on_commit_callbacks(execute=True):
        approved = agent.post(reverse("support:late_log_approve", args=[request.pk]), follow=True)
    run_queued_tasks()
    assert "Session logged for Tess Tutor: $13.75 deposited" in html_of(approved)
    late.refresh_from_db()
    assert late.status == Status.COMPLETED
    assert late.completion.completed_by == cast.agent
    assert [m.cents for m in balances_of(cast.tutor)] == [1375]
    assert "Support logged your session (CHEM 110)" in [m.subject for m in mailoutbox]

    # Approving again changes nothing.
    again = agent.post(reverse("support:late_log_approve", args=[request.pk]), follow=True)
    assert "already approved" in html_of(again)
    assert Completion.objects.count() == 1 and Transfer.objects.count() == 1

    # The tutor sees it completed and paid.
    page = html_of(tutor.get(reverse("tutoring:detail", args=[late.pk])))
    assert "Completed" in page and "$13.75" in page and "by Sue Support for the tutor" in page
    assert "Ask Support to log this session" not in page
    assert "$13.75" in html_of(tutor.get(reverse("tutoring:sessions")))


def test_decline_through_the_pages(
    client: Client, cast: Cast, late_request: LateLogRequest
) -> None:
    agent = as_user(Client(), cast.agent)
    url = reverse("support:late_log_decline", args=[late_request.pk])
    empty = agent.post(url, {"reason": ""}, follow=True)
    assert "Say why you are declining" in html_of(empty)
    agent.post(url, {"reason": "Maya says you did not meet."})
    late_request.refresh_from_db()
    assert late_request.status == RequestStatus.DECLINED
    tutor = as_user(Client(), cast.tutor)
    page = html_of(tutor.get(reverse("tutoring:detail", args=[late_request.session_id])))
    assert "Support declined your last request: Maya says you did not meet." in page
    form = html_of(tutor.get(reverse("support:late_log_new", args=[late_request.session_id])))
    assert "Maya says you did not meet." in form


def test_while_logging_is_open_the_form_says_so(client: Client, cast: Cast, ready: Session) -> None:
    as_user(client, cast.tutor)
    page = html_of(client.get(reverse("tutoring:detail", args=[ready.pk])))
    assert "Ask Support to log this session" not in page
    response = client.post(reverse("support:late_log_new", args=[ready.pk]), late_form())
    assert response.status_code == 422
    assert "complete the session yourself" in html_of(response)
    assert LateLogRequest.objects.count() == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"minutes": "abc"},
        {"minutes": "7"},
        {"minutes": "9999"},
        {"minutes": ""},
        {"topics_covered": "x" * 5000},
        {"reason": "a\x00b"},
    ],
)
def test_bad_late_log_input_never_500s(
    client: Client, cast: Cast, late: Session, overrides: dict[str, str]
) -> None:
    response = as_user(client, cast.tutor).post(
        reverse("support:late_log_new", args=[late.pk]), late_form(**overrides)
    )
    assert response.status_code in (400, 422)
    assert 'role="alert"' in html_of(response)
    assert LateLogRequest.objects.count() == 0


# -- Corrections through the pages --------------------------------------------------------------


def test_corrections_through_the_pages(
    client: Client, cast: Cast, completed: Session, agent2: User
) -> None:
    first = as_user(Client(), cast.agent)
    page = html_of(first.get(reverse("tutoring:detail", args=[completed.pk])))
    new_url = reverse("support:correction_new", args=[completed.pk])
    assert new_url in page
    bad = first.post(new_url, {"kind": ProposalKind.ADJUST_MINUTES, "minutes": "55", "reason": "x"})
    assert bad.status_code == 422 and "already paid for 55 min" in html_of(bad)
    odd = first.post(new_url, {"kind": "refund", "minutes": "30", "reason": "x"})
    assert odd.status_code == 400
    assert CorrectionProposal.objects.count() == 0

    first.post(
        new_url, {"kind": ProposalKind.ADJUST_MINUTES, "minutes": "30", "reason": "Ended early"}
    )
    proposal = CorrectionProposal.objects.get()
    detail_url = reverse("support:correction_detail", args=[proposal.pk])
    mine = html_of(first.get(detail_url))
    assert "another support agent has to approve it" in mine
    assert "Approve and apply" not in mine
    own = first.post(reverse("support:correction_approve", args=[proposal.pk]), follow=True)
    assert "another support agent has to approve it" in html_of(own)
    proposal.refresh_from_db()
    assert proposal.status == CorrectionStatus.PENDING
    assert [m.cents for m in balances_of(cast.tutor)] == [1375]

    second = as_user(Client(), agent2)
    assert "Approve and apply" in html_of(second.get(detail_url))
    done = second.post(reverse("support:correction_approve", args=[proposal.pk]), follow=True)
    assert "Correction applied: $6.25 returned to the organization." in html_of(done)
    assert [m.cents for m in balances_of(cast.tutor)] == [750]
    history = html_of(second.get(reverse("support:session_history", args=[completed.pk])))
    assert "Proposed changing the logged time from 55 min to 30 min" in history
    assert "Approved changing the logged time to 30 min" in history
    assert "Changed the paid time from 55 min to 30 min (−$6.25)" in history
