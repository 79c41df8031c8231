"""Agents' own pages: one search over people and sessions, a person's Support page, writing
to someone first (from their page or a session), the agent's own Sessions, and the
conversation header that follows assignment, closing and reopening without a reload."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.core.errors import InvalidInput, NotFound
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import Member, Role
from studyhall.support import selectors
from studyhall.support.models import Conversation, Message
from studyhall.support.services import chat
from studyhall.support.services.corrections import propose_correction
from studyhall.support.services.late_logging import (
    approve_late_log,
    decline_late_log,
    request_late_log,
)
from studyhall.testing import factories as f
from studyhall.testing.factories import GOOD_RECAP
from studyhall.tutoring.models import Session
from studyhall.tutoring.services.completion import complete_session

HTMX = {"HX-Request": "true"}


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


# -- Search ------------------------------------------------------------------------------------


def test_the_query_is_read_once() -> None:
    assert selectors.SearchQuery.parse("  Maya   Chen ") == selectors.SearchQuery("Maya Chen", None)
    assert selectors.SearchQuery.parse("#42") == selectors.SearchQuery("#42", 42)
    assert selectors.SearchQuery.parse("0042") == selectors.SearchQuery("0042", 42)
    assert selectors.SearchQuery.parse("0").number is None
    assert selectors.SearchQuery.parse("9" * 13).number is None
    assert selectors.SearchQuery.parse(None) == selectors.SearchQuery("", None)
    assert len(selectors.SearchQuery.parse("x" * 500).text) == 120


def test_search_by_name_email_and_school_id(cast: Cast) -> None:
    Member.objects.filter(user=cast.student, organization=cast.org).update(school_id="S-7731")
    agent = signed_in(cast.agent)
    url = reverse("support:search")

    by_name = html(agent.get(url, {"q": "maya"}))
    assert "1 person for “maya”." in by_name
    assert f'href="{reverse("support:person", args=[cast.student.pk])}">Maya Chen</a>' in by_name
    assert "Test College: Student" in by_name
    assert "School ID S-7731 (Test College)" in by_name

    by_email = html(agent.get(url, {"q": "example.test"}))
    assert "7 people for “example.test”." in by_email  # the cast, the agent and the outsider
    # The outsider's organization is found too: agents support every organization.
    assert "Olga Outsider" in by_email and "Other College: Tutor" in by_email

    by_school = html(agent.get(url, {"q": "s-7731"}))
    assert "1 person for “s-7731”." in by_school and "Maya Chen" in by_school

    nothing = html(agent.get(url, {"q": "zzz"}))
    assert "0 people for “zzz”." in nothing and "Nobody matches." in nothing
    empty = html(agent.get(url))
    assert "Type a name, an email, a school ID or a session number." in empty


def test_search_by_session_number(cast: Cast, late: Session) -> None:
    agent = signed_in(cast.agent)
    page = html(agent.get(reverse("support:search"), {"q": f"#{late.pk}"}))
    assert f"0 people and 1 session for “#{late.pk}”." in page
    assert (
        f'href="{reverse("tutoring:detail", args=[late.pk])}">Session {late.pk}: CHEM 110 with '
        "Tess Tutor</a>"
    ) in page
    assert f'href="{reverse("support:session_history", args=[late.pk])}">History</a>' in page
    assert "0 people and 0 sessions" in html(agent.get(reverse("support:search"), {"q": "999999"}))


def test_search_is_paginated_with_a_flat_query_count(cast: Cast) -> None:
    for n in range(5):
        f.add_member(cast.org, f.make_user(name=f"Pat {n:02}"), Role.STUDENT, school_id=f"P{n}")
    agent = signed_in(cast.agent)
    url = reverse("support:search") + "?q=pat"
    few = queries(agent, url)
    for n in range(5, 45):
        f.add_member(cast.org, f.make_user(name=f"Pat {n:02}"), Role.STUDENT, school_id=f"P{n}")
        f.add_member(cast.other_org, User.objects.get(name=f"Pat {n:02}"), Role.TUTOR)
    assert queries(agent, url) == few == 7
    first = html(agent.get(url))
    assert "45 people for “pat”." in first
    assert first.count('class="support-list__item"') == 20
    assert "Page 1 of 3" in first and 'href="?q=pat&amp;page=2" rel="next"' in first
    last = html(agent.get(url + "&page=3"))
    assert last.count('class="support-list__item"') == 5 and "Pat 44" in last
    assert "Pat 00" not in last


def test_the_inbox_has_the_search_box(cast: Cast) -> None:
    page = html(signed_in(cast.agent).get(reverse("support:inbox")))
    assert (
        '<form class="support-search" method="get" action="/support/search/" role="search"' in page
    )
    assert '<label for="support-search-q">Find a person or session</label>' in page


# -- A person's page and writing first ---------------------------------------------------------


def test_a_persons_page(cast: Cast, late: Session) -> None:
    Member.objects.filter(user=cast.tutor).update(school_id="T-1")
    page = html(signed_in(cast.agent).get(reverse("support:person", args=[cast.tutor.pk])))
    assert "<h1>Tess Tutor</h1>" in page
    assert "<dd>tutor@example.test</dd>" in page
    assert "<div>T-1 (Test College)</div>" in page
    assert "No conversations yet." in page
    assert f'action="{reverse("support:start_conversation", args=[cast.tutor.pk])}"' in page
    assert f"Session {late.pk} · " in page
    agent_page = html(signed_in(cast.agent).get(reverse("support:person", args=[cast.agent.pk])))
    assert "Support agents talk to each other outside Studyhall's chat." in agent_page
    assert "support:start_conversation" not in agent_page and "/write/" not in agent_page


def test_an_agent_writes_first_and_it_reaches_the_persons_chat(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    agent = signed_in(cast.agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent.post(
            reverse("support:start_conversation", args=[cast.student.pk]),
            {"body": "Hi Maya, your invitation bounced; can you check your email address?"},
        )
    conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("support:conversation", args=[conversation.pk])
    assert (conversation.user, conversation.assigned_to, conversation.session) == (
        cast.student,
        cast.agent,
        None,
    )
    assert conversation.waiting_since is None and conversation.is_open
    message = Message.objects.get()
    assert (message.author, message.from_agent) == (cast.agent, True)
    entry = AuditEntry.objects.get(action="support.conversation_started")
    assert entry.actor_id == cast.agent.pk and entry.session_id is None
    assert entry.data == {"conversation_id": conversation.pk, "user_id": cast.student.pk}
    # Maya sees it in her chat panel, unread; she is away, so it is emailed too.
    assert selectors.unread_count(cast.student) == 1
    panel = html(signed_in(cast.student).get(reverse("support:chat_panel")))
    assert "your invitation bounced" in panel
    assert '<span class="support-msg__author">Sue Support (Support)</span>' in panel
    [email] = mail.outbox
    assert email.to == ["maya@example.test"] and email.subject == "Studyhall Support wrote to you"
    assert "Sue Support from Studyhall Support wrote to you:" in email.body
    # The inbox lists it too.
    assert "Maya Chen" in html(agent.get(reverse("support:inbox") + "?view=mine"))


def test_writing_about_a_session_links_it(cast: Cast, late: Session) -> None:
    sent = chat.start_conversation(
        actor=cast.agent, user_id=cast.tutor.pk, body="About this session…", session_id=late.pk
    )
    conversation = sent.conversation
    assert conversation.session == late
    entry = AuditEntry.objects.get(action="support.conversation_started")
    assert (entry.session_id, entry.organization_id) == (late.pk, cast.org.pk)
    page = html(signed_in(cast.agent).get(reverse("support:conversation", args=[conversation.pk])))
    assert (
        f'Started about the <a href="{reverse("tutoring:detail", args=[late.pk])}">CHEM 110' in page
    )


def test_the_session_page_offers_to_write_to_each_person(cast: Cast, late: Session) -> None:
    page = html(signed_in(cast.agent).get(reverse("tutoring:detail", args=[late.pk])))
    assert "<summary>Write to Tess Tutor (tutor)</summary>" in page
    assert "<summary>Write to Maya Chen (student, accepted)</summary>" in page
    assert f'<input type="hidden" name="session" value="{late.pk}">' in page
    tutor_page = html(signed_in(cast.tutor).get(reverse("tutoring:detail", args=[late.pk])))
    assert "support-write" not in tutor_page


def test_writing_to_someone_with_an_open_conversation_joins_it(cast: Cast) -> None:
    theirs = chat.post_user_message(actor=cast.student, body="Hello?").conversation
    sent = chat.start_conversation(actor=cast.agent, user_id=cast.student.pk, body="Hi!")
    assert sent.conversation_id == theirs.pk and Conversation.objects.count() == 1
    assert AuditEntry.objects.filter(action="support.conversation_joined").count() == 1
    theirs.refresh_from_db()
    assert theirs.assigned_to == cast.agent and theirs.waiting_since is None


def test_refusals_write_nothing(cast: Cast, late: Session) -> None:
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"user_id": cast.student.pk, "body": "  "}, InvalidInput, "Type a message first."),
        ({"user_id": 999_999, "body": "Hi"}, NotFound, "There is no such person."),
        ({"user_id": "x", "body": "Hi"}, NotFound, "There is no such person."),
        ({"user_id": cast.agent.pk, "body": "Hi"}, InvalidInput, "talk to each other"),
        (
            {"user_id": cast.student2.pk, "body": "Hi", "session_id": late.pk},
            InvalidInput,
            "Sam Lee is not on that session.",
        ),
        (
            {"user_id": cast.tutor.pk, "body": "Hi", "session_id": 999_999},
            NotFound,
            "There is no such session.",
        ),
    ]
    for kwargs, error, words in cases:
        with pytest.raises(error, match=words):
            chat.start_conversation(actor=cast.agent, **kwargs)
    with pytest.raises(Exception, match="Only Studyhall support agents"):
        chat.start_conversation(actor=cast.admin, user_id=cast.student.pk, body="Hi")
    assert not Conversation.objects.exists() and not Message.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="support.").exists()


def test_a_refused_page_write_goes_back_with_the_reason(cast: Cast, late: Session) -> None:
    agent = signed_in(cast.agent)
    back = reverse("tutoring:detail", args=[late.pk])
    response = agent.post(
        reverse("support:start_conversation", args=[cast.tutor.pk]),
        {"body": "", "session": str(late.pk), "back": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    assert "Type a message first." in html(agent.get(back))
    outside = agent.post(
        reverse("support:start_conversation", args=[cast.tutor.pk]),
        {"body": "", "back": "https://evil.example/"},
    )
    assert outside["Location"] == reverse("support:person", args=[cast.tutor.pk])
    bad_session = agent.post(
        reverse("support:start_conversation", args=[cast.tutor.pk]), {"body": "x", "session": "x"}
    )
    assert bad_session.status_code == 404
    assert not Message.objects.exists()


# -- The agent's own Sessions --------------------------------------------------------------------


def test_the_agents_sessions_are_those_they_handle(cast: Cast, late: Session, agent2: User) -> None:
    other_late = f.make_session(
        org=cast.org,
        tutor=cast.other_tutor,
        students=[cast.student2],
        start=timezone.now() - timedelta(hours=100),
    )
    mine = request_late_log(
        actor=cast.tutor, session_id=late.pk, minutes=55, recap=GOOD_RECAP, reason="Away"
    )
    approve_late_log(actor=cast.agent, request_id=mine.pk)
    theirs = request_late_log(
        actor=cast.other_tutor, session_id=other_late.pk, minutes=30, recap=GOOD_RECAP, reason="x"
    )
    decline_late_log(actor=agent2, request_id=theirs.pk, reason="Too late")
    ready = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student2])
    complete_session(session_id=ready.pk, actor=cast.tutor, minutes=55, recap=GOOD_RECAP)
    propose_correction(actor=cast.agent, session_id=ready.pk, kind="void", minutes=None, reason="x")
    talked = f.make_session(
        org=cast.other_org,
        tutor=cast.outsider,
        students=[],
        course=f.make_course(cast.other_org, code="BIO 1"),
    )
    chat.start_conversation(
        actor=cast.agent, user_id=cast.outsider.pk, body="Hi", session_id=talked.pk
    )

    handled = list(selectors.agent_sessions(cast.agent))
    assert [s.pk for s in handled] == [talked.pk, ready.pk, late.pk]
    assert list(selectors.agent_sessions(agent2)) == [other_late]
    page = html(signed_in(cast.agent).get(reverse("support:sessions")))
    assert "<h1>Sessions you're handling</h1>" in page and "3 sessions." in page
    assert (
        f'href="{reverse("tutoring:detail", args=[late.pk])}">CHEM 110 with Tess Tutor</a>' in page
    )
    assert "Late-log request decided 0" in page
    assert "Correction 0" in page and "Conversation, last message 0" in page
    assert "BIO 1 with Olga Outsider" in page


def test_an_agent_with_nothing_yet_is_told_what_will_appear(cast: Cast) -> None:
    page = html(signed_in(cast.agent).get(reverse("support:sessions")))
    assert "No sessions yet. Once you decide a request to log a session" in page


def test_the_agents_sessions_are_paginated_with_a_flat_query_count(cast: Cast) -> None:
    def talk_about(count: int) -> None:
        for _ in range(count):
            student = f.add_member(cast.org, f.make_user(), Role.STUDENT)
            f.enroll(cast.course, student)
            session = f.make_session(org=cast.org, tutor=cast.tutor, students=[student])
            chat.close_conversation(
                actor=cast.agent,
                conversation_id=chat.start_conversation(
                    actor=cast.agent, user_id=student.pk, body="Hi", session_id=session.pk
                ).conversation_id,
            )

    agent = signed_in(cast.agent)
    url = reverse("support:sessions")
    talk_about(3)
    few = queries(agent, url)
    talk_about(22)
    assert queries(agent, url) == few == 5
    page = html(agent.get(url))
    assert "25 sessions." in page and page.count('class="support-list__item"') == 20
    assert 'href="?page=2" rel="next"' in page
    assert html(agent.get(url + "?page=2")).count('class="support-list__item"') == 5


def test_the_agents_sessions_tab_and_landing(cast: Cast) -> None:
    agent = signed_in(cast.agent)
    assert agent.get("/")["Location"] == reverse("support:sessions")
    page = html(agent.get(reverse("support:sessions")))
    assert (
        f'<li><a href="{reverse("support:sessions")}" aria-current="page">Sessions</a></li>' in page
    )
    tutor_page = html(signed_in(cast.tutor).get(reverse("ledger:transactions")))
    assert f'<li><a href="{reverse("tutoring:sessions")}">Sessions</a></li>' in tutor_page


# -- The live conversation header ----------------------------------------------------------------


@pytest.fixture
def conversation(cast: Cast) -> Conversation:
    return chat.post_user_message(actor=cast.student, body="Where is my session?").conversation


def test_the_page_asks_for_its_header_when_the_conversation_changes(
    cast: Cast, conversation: Conversation
) -> None:
    page = html(signed_in(cast.agent).get(reverse("support:conversation", args=[conversation.pk])))
    assert (
        '<div id="conversation-header" aria-live="polite" aria-atomic="true"\n'
        f'       hx-get="/support/inbox/{conversation.pk}/?part=header"\n'
        f'       hx-trigger="support:changed[detail.conversation=={conversation.pk}] from:body" '
        'hx-swap="innerHTML"\n'
        '       hx-sync="this:queue first">'
    ) in page
    assert '<span id="conversation-assignee">Unassigned.</span>' in page
    # The agent's own actions do not queue behind that refresh (static/support/chat.js lets
    # them take turns); each disables its button while it is on its way.
    action = 'hx-target="#conversation-header" hx-swap="innerHTML" hx-disabled-elt="find button">'
    assert page.count(action) == 2  # assign, close
    assert page.count("hx-sync") == 1


def test_another_agents_assignment_shows_in_the_header(
    cast: Cast, conversation: Conversation, agent2: User
) -> None:
    chat.assign_conversation(actor=agent2, conversation_id=conversation.pk, agent_id=agent2.pk)
    url = reverse("support:conversation", args=[conversation.pk]) + "?part=header"
    part = html(signed_in(cast.agent).get(url, headers=HTMX))
    assert "<html" not in part
    assert '<span id="conversation-assignee">Assigned to Sid Support.</span>' in part
    assert 'data-status="open"' in part
    assert '<div class="actions" id="conversation-actions" hx-swap-oob="outerHTML">' in part
    assert 'id="conversation-announce"' not in part  # the live refresh leaves it alone


def test_assigning_closing_and_reopening_answer_with_the_header(
    cast: Cast, conversation: Conversation
) -> None:
    agent = signed_in(cast.agent)
    assigned = html(
        agent.post(
            reverse("support:assign", args=[conversation.pk]),
            {"agent": str(cast.agent.pk)},
            headers=HTMX,
        )
    )
    assert '<span id="conversation-assignee">Assigned to you.</span>' in assigned
    assert (
        '<p class="message message--success" id="conversation-announce" role="status" '
        'hx-swap-oob="outerHTML">The conversation is assigned to you.</p>'
    ) in assigned
    closed = html(agent.post(reverse("support:close", args=[conversation.pk]), headers=HTMX))
    assert 'data-status="closed"' in closed and ">Closed</span>" in closed
    assert ">Reopen conversation</button>" in closed
    chat.post_user_message(actor=cast.student, body="Another question")
    refused = html(agent.post(reverse("support:reopen", args=[conversation.pk]), headers=HTMX))
    assert (
        '<p class="message message--error" id="conversation-announce" role="alert" '
        'hx-swap-oob="outerHTML">Maya Chen has another open conversation; answer there '
        "instead.</p>"
    ) in refused
    assert 'data-status="closed"' in refused
