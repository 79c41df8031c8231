"""Who may reach every Support URL, walked from the URLconf so a new page cannot be forgotten.

Each URL is in exactly one group. Agents' pages: signed out goes to the sign-in page, every
member of any organization (tutor, students, org admin, another organization's people) gets
403 and writes nothing, an agent gets the page, and an id that does not exist is 404. Support
agents are Studyhall's own staff and support every organization, so for an agent no
organization's people or sessions are hidden. The pages for everyone signed in and the
session pages (404 outside the session's organization) are checked by role in test_pages.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.core.models import AuditEntry
from studyhall.support import urls
from studyhall.support.models import Conversation, Message
from studyhall.support.services import chat
from studyhall.support.services.corrections import propose_correction
from studyhall.support.services.late_logging import request_late_log
from studyhall.testing import factories as f
from studyhall.testing.factories import GOOD_RECAP
from studyhall.tutoring.models import Session
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.confirmations import dispute_session

# What each `pk` names, for the agents' pages.
AGENT_URLS = {
    "inbox": None,
    "conversation": "conversation",
    "conversation_poll": "conversation",
    "reply": "conversation",
    "assign": "conversation",
    "close": "conversation",
    "reopen": "conversation",
    "search": None,
    "person": "person",
    "start_conversation": "person",
    "sessions": None,
    "late_log_approve": "late_log",
    "late_log_decline": "late_log",
    "correction_new": "completed",
    "correction_detail": "correction",
    "correction_approve": "correction",
    "correction_reject": "correction",
    "disputes": None,
    "dispute_detail": "disputed",
    "dispute_uphold": "disputed",
}
SIGNED_IN_URLS = {"chat", "chat_panel", "chat_poll", "chat_send", "chat_seen"}
SESSION_URLS = {"late_log_new", "late_log_detail", "session_history"}
EVERYONE_URLS = {"contact"}
MEMBERS = ["tutor", "student", "student2", "other_tutor", "admin", "outsider"]
PATTERNS = {p.name: p for p in urls.urlpatterns if isinstance(p, URLPattern)}
# What a form's target gets from an agent when posted empty: its own answer, never a 500.
POSTED = {"reply": 302, "assign": 302, "close": 302, "reopen": 302, "start_conversation": 302}
OTHER_RECAP = {
    "topics_covered": "Balancing redox equations in acidic solution, half reaction by half.",
    "tutee_progress": "Sam balanced four equations alone and caught one sign error himself.",
    "next_steps": "Basic solutions next week; Sam will try problems 12 to 20 before then.",
}


def test_every_support_url_is_in_one_group() -> None:
    groups = [set(AGENT_URLS), SIGNED_IN_URLS, SESSION_URLS, EVERYONE_URLS]
    assert set().union(*groups) == set(PATTERNS)
    assert sum(len(g) for g in groups) == len(PATTERNS) == len(urls.urlpatterns)


def _try(client: Client, url: str) -> Any:
    """GET, or POST (empty) where the page only takes POST."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    return response


@pytest.fixture
def ids(cast: Cast, late: Session, ready: Session, agent2: User) -> dict[str, int]:
    conversation = chat.post_user_message(actor=cast.student, body="Hello").conversation
    complete_session(session_id=ready.pk, actor=cast.tutor, minutes=55, recap=GOOD_RECAP)
    request = request_late_log(
        actor=cast.tutor, session_id=late.pk, minutes=55, recap=GOOD_RECAP, reason="Away"
    )
    proposal = propose_correction(
        actor=agent2, session_id=ready.pk, kind="void", minutes=None, reason="Duplicate"
    )
    # A session Sam says was shorter: the organization asks its students to confirm.
    cast.org.confirmations_required = True
    cast.org.save(update_fields=["confirmations_required"])
    disputed = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student2])
    complete_session(session_id=disputed.pk, actor=cast.tutor, minutes=55, recap=OTHER_RECAP)
    dispute_session(
        session_id=disputed.pk,
        actor=cast.student2,
        kind="shorter",
        shorter_by_minutes=20,
        reason="We stopped at 35 minutes.",
    )
    return {
        "disputed": disputed.pk,
        "conversation": conversation.pk,
        "person": cast.student.pk,
        "late_log": request.pk,
        "completed": ready.pk,
        "correction": proposal.pk,
    }


def _url(name: str, ids: dict[str, int], *, missing: bool = False) -> str:
    target = AGENT_URLS[name]
    if target is None:
        return reverse(f"support:{name}")
    return reverse(f"support:{name}", args=[999_999 if missing else ids[target]])


def _written() -> tuple[int, int, int]:
    return Message.objects.count(), Conversation.objects.count(), AuditEntry.objects.count()


@pytest.mark.parametrize("name", sorted(AGENT_URLS))
def test_agents_pages(cast: Cast, ids: dict[str, int], name: str) -> None:
    url = _url(name, ids)
    signed_out = _try(Client(), url)
    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/accounts/login/")
    before = _written()
    for who in MEMBERS:
        client = Client()
        client.force_login(getattr(cast, who))
        response = _try(client, url)
        assert response.status_code == 403, (who, response.status_code)
    assert _written() == before
    agent = Client()
    agent.force_login(cast.agent)
    response = agent.get(url)
    if response.status_code == 405:
        response = agent.post(url, {})
        assert response.status_code == POSTED.get(name, 302), response.status_code
    else:
        assert response.status_code == 200
    if AGENT_URLS[name] is not None:
        assert _try(agent, _url(name, ids, missing=True)).status_code == 404


@pytest.mark.parametrize("name", sorted(SIGNED_IN_URLS))
def test_the_chat_needs_a_sign_in(db: None, name: str) -> None:
    response = _try(Client(), reverse(f"support:{name}"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_contact_form_is_for_everyone(cast: Cast) -> None:
    assert Client().get(reverse("support:contact")).status_code == 200
    client = Client()
    client.force_login(cast.student)
    assert client.get(reverse("support:contact"))["Location"] == reverse("support:chat")
