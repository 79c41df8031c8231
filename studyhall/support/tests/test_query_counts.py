"""The support inbox and a conversation cost a fixed number of queries, however many
conversations and messages there are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import Cast
from studyhall.orgs.models import Role
from studyhall.support.models import Conversation
from studyhall.support.services.chat import post_agent_reply, post_user_message
from studyhall.testing import factories as f


def write_in(cast: Cast, people: int) -> None:
    for _ in range(people):
        user = f.add_member(cast.org, f.make_user(), Role.STUDENT)
        post_user_message(actor=user, body="I cannot find my session.")
        conversation = Conversation.objects.get(user=user)
        post_agent_reply(actor=cast.agent, conversation_id=conversation.pk, body="Looking now.")
        post_user_message(actor=user, body="Thanks!")


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("view", ["open", "mine", "unassigned", "closed"])
def test_the_inbox_does_not_grow_with_conversations(client: Client, cast: Cast, view: str) -> None:
    client.force_login(cast.agent)
    url = reverse("support:inbox") + f"?view={view}"
    write_in(cast, 2)
    assert queries_for(client, url) == 9
    write_in(cast, 8)
    assert queries_for(client, url) == 9


def test_a_conversation_does_not_grow_with_messages(client: Client, cast: Cast) -> None:
    client.force_login(cast.agent)
    post_user_message(actor=cast.tutor, body="Hello")
    conversation = Conversation.objects.get(user=cast.tutor)
    url = reverse("support:conversation", args=[conversation.pk])
    assert queries_for(client, url) == 11
    for n in range(10):
        post_agent_reply(actor=cast.agent, conversation_id=conversation.pk, body=f"Reply {n}")
        post_user_message(actor=cast.tutor, body=f"Answer {n}")
    assert queries_for(client, url) == 11
