"""The support chat's services and reads: a user's one open conversation, agents' replies,
assignment, closing and reopening, unread counts, the inbox order, and the email to a user who
is away when Support replies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from studyhall.core.models import AuditEntry
from studyhall.support import selectors
from studyhall.support.models import ChatPresence, Conversation, ConversationStatus, Message
from studyhall.support.services import chat
from studyhall.support.services.notify import AWAY_AFTER, send_reply_email_if_away


def messages_and_conversations() -> tuple[int, int]:
    return Message.objects.count(), Conversation.objects.count()


def test_the_first_message_opens_a_conversation_that_waits(cast: Cast) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        message = chat.post_user_message(actor=cast.tutor, body="  How do I log a late session? ")
    conversation = message.conversation
    assert message.body == "How do I log a late session?"
    assert not message.from_agent
    assert conversation.user == cast.tutor and conversation.is_open
    assert conversation.waiting_since == start
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        second = chat.post_user_message(actor=cast.tutor, body="It was last Monday.")
    assert second.conversation_id == conversation.pk
    conversation.refresh_from_db()
    # Still waiting since the first unanswered message.
    assert conversation.waiting_since == start
    assert conversation.last_message_at == start + timedelta(minutes=3)
    assert Conversation.objects.count() == 1


def test_a_reply_answers_assigns_and_counts_as_unread(cast: Cast, agent2: User) -> None:
    asked = chat.post_user_message(actor=cast.student, body="Hi!")
    assert selectors.unread_count(cast.student) == 0
    reply = chat.post_agent_reply(
        actor=cast.agent, conversation_id=asked.conversation_id, body="Hello"
    )
    conversation = Conversation.objects.get()
    assert reply.from_agent
    assert conversation.waiting_since is None
    assert conversation.assigned_to == cast.agent
    assert selectors.unread_count(cast.student) == 1
    chat.post_agent_reply(actor=agent2, conversation_id=conversation.pk, body="Anything else?")
    conversation.refresh_from_db()
    # The first agent to answer keeps it.
    assert conversation.assigned_to == cast.agent
    assert selectors.unread_count(cast.student) == 2
    # Nobody else has unread messages.
    assert selectors.unread_count(cast.tutor) == 0
    chat.mark_read(actor=cast.student)
    assert selectors.unread_count(cast.student) == 0
    # Writing in the panel reads what was above it.
    chat.post_agent_reply(actor=agent2, conversation_id=conversation.pk, body="Still there?")
    chat.post_user_message(actor=cast.student, body="Yes")
    assert selectors.unread_count(cast.student) == 0


def test_closing_keeps_history_and_the_next_message_starts_anew(cast: Cast) -> None:
    first = chat.post_user_message(actor=cast.tutor, body="One")
    chat.close_conversation(actor=cast.agent, conversation_id=first.conversation_id)
    closed = Conversation.objects.get()
    assert (closed.status, closed.closed_by, closed.waiting_since) == ("closed", cast.agent, None)
    with pytest.raises(Conflict) as conflict:
        chat.post_agent_reply(actor=cast.agent, conversation_id=closed.pk, body="Late answer")
    assert conflict.value.code == "conversation_closed"

    second = chat.post_user_message(actor=cast.tutor, body="Two")
    assert second.conversation_id != closed.pk
    assert [m.body for m in selectors.chat_history(cast.tutor)] == ["One", "Two"]
    # Reopening the old one while the new one is open is refused.
    with pytest.raises(Conflict) as conflict:
        chat.reopen_conversation(actor=cast.agent, conversation_id=closed.pk)
    assert conflict.value.code == "conversation_already_open"
    chat.close_conversation(actor=cast.agent, conversation_id=second.conversation_id)
    reopened = chat.reopen_conversation(actor=cast.agent, conversation_id=closed.pk)
    assert reopened.is_open and reopened.closed_at is None
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions == [
        "support.conversation_closed",
        "support.conversation_closed",
        "support.conversation_reopened",
    ]


def test_assignment(cast: Cast, agent2: User) -> None:
    conversation = chat.post_user_message(actor=cast.tutor, body="Hi").conversation
    chat.assign_conversation(actor=cast.agent, conversation_id=conversation.pk, agent_id=agent2.pk)
    conversation.refresh_from_db()
    assert conversation.assigned_to == agent2
    for not_an_agent in (cast.tutor.pk, cast.admin.pk, 999_999):
        with pytest.raises(InvalidInput) as refused:
            chat.assign_conversation(
                actor=cast.agent, conversation_id=conversation.pk, agent_id=not_an_agent
            )
        assert refused.value.code == "not_an_agent"
    chat.assign_conversation(actor=agent2, conversation_id=conversation.pk, agent_id=None)
    conversation.refresh_from_db()
    assert conversation.assigned_to is None
    assert AuditEntry.objects.filter(action="support.conversation_assigned").count() == 2


@pytest.mark.parametrize("who", ["tutor", "student", "admin", "outsider"])
def test_only_agents_answer_assign_close_and_reopen(cast: Cast, who: str) -> None:
    user = getattr(cast, who)
    conversation = chat.post_user_message(actor=cast.student2, body="Help").conversation
    before = messages_and_conversations(), AuditEntry.objects.count()
    actions = [
        lambda: chat.post_agent_reply(actor=user, conversation_id=conversation.pk, body="x"),
        lambda: chat.assign_conversation(
            actor=user, conversation_id=conversation.pk, agent_id=cast.agent.pk
        ),
        lambda: chat.close_conversation(actor=user, conversation_id=conversation.pk),
        lambda: chat.reopen_conversation(actor=user, conversation_id=conversation.pk),
    ]
    for action in actions:
        with pytest.raises(Forbidden) as refused:
            action()
        assert refused.value.code == "agents_only"
    assert (messages_and_conversations(), AuditEntry.objects.count()) == before
    conversation.refresh_from_db()
    assert conversation.is_open and conversation.assigned_to is None


def test_agents_answer_from_the_inbox_not_the_bubble(cast: Cast) -> None:
    with pytest.raises(Forbidden) as refused:
        chat.post_user_message(actor=cast.agent, body="Hi")
    assert refused.value.code == "agents_use_inbox"
    assert messages_and_conversations() == (0, 0)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "empty_message"),
        ("  \n\t ", "empty_message"),
        (None, "invalid_message"),
        (42, "invalid_message"),
        ("nul\x00byte", "invalid_input"),
        ("x" * 2001, "text_too_long"),
    ],
)
def test_bad_messages_are_refused(cast: Cast, body: Any, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        chat.post_user_message(actor=cast.tutor, body=body)
    assert refused.value.code == code
    conversation = Conversation.objects.create(user=cast.student)
    with pytest.raises(DomainError) as refused:
        chat.post_agent_reply(actor=cast.agent, conversation_id=conversation.pk, body=body)
    assert refused.value.code == code
    assert Message.objects.count() == 0


@pytest.mark.parametrize("conversation_id", [0, -1, "1", None, True, 10**12])
def test_unknown_conversations_are_not_found(cast: Cast, conversation_id: Any) -> None:
    with pytest.raises(NotFound):
        chat.post_agent_reply(actor=cast.agent, conversation_id=conversation_id, body="x")
    with pytest.raises(NotFound):
        chat.close_conversation(actor=cast.agent, conversation_id=conversation_id)
    with pytest.raises(NotFound):
        selectors.conversation_for_agent(cast.agent, conversation_id)


def test_the_inbox_serves_the_longest_wait_first(cast: Cast) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        maya = chat.post_user_message(actor=cast.student, body="First").conversation
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        sam = chat.post_user_message(actor=cast.student2, body="Second").conversation
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        tutor = chat.post_user_message(actor=cast.tutor, body="Third").conversation
        chat.post_agent_reply(actor=cast.agent, conversation_id=maya.pk, body="Answered")
    with time_machine.travel(start + timedelta(minutes=15), tick=False):
        chat.post_user_message(actor=cast.tutor, body="Third, again")
    order = [c.pk for c in selectors.inbox(cast.agent)]
    # Sam has waited longest, then the tutor (since their first message); Maya was answered.
    assert order == [sam.pk, tutor.pk, maya.pk]
    assert [c.pk for c in selectors.inbox(cast.agent, view="mine")] == [maya.pk]
    assert [c.pk for c in selectors.inbox(cast.agent, view="unassigned")] == [sam.pk, tutor.pk]
    chat.close_conversation(actor=cast.agent, conversation_id=sam.pk)
    assert [c.pk for c in selectors.inbox(cast.agent, view="closed")] == [sam.pk]
    listed = selectors.inbox(cast.agent)[0]
    assert (listed.message_count, listed.last_body) == (2, "Third, again")  # type: ignore[attr-defined]
    with pytest.raises(Forbidden):
        selectors.inbox(cast.tutor)


def test_a_user_sees_only_their_own_messages(cast: Cast) -> None:
    chat.post_user_message(actor=cast.student, body="Maya's question")
    chat.post_user_message(actor=cast.tutor, body="Tess's question")
    assert [m.body for m in selectors.chat_history(cast.student)] == ["Maya's question"]
    assert [m.body for m in selectors.messages_after(cast.student, 0)] == ["Maya's question"]
    assert selectors.chat_history(cast.outsider) == []


# -- The email when Support replies to someone who is away -------------------------------------


def reply_to(cast: Cast, body: str = "We logged it for you.") -> Message:
    conversation = Conversation.objects.filter(user=cast.tutor, status="open").first()
    if conversation is None:
        conversation = chat.post_user_message(actor=cast.tutor, body="Help?").conversation
    return chat.post_agent_reply(actor=cast.agent, conversation_id=conversation.pk, body=body)


def seen(user: User, ago: timedelta) -> None:
    ChatPresence.objects.update_or_create(
        user=user, defaults={"last_seen_at": timezone.now() - ago}
    )


def test_a_reply_is_emailed_once_per_absence(
    cast: Cast,
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    reply_to(cast, "setup")  # the user's own message marks them present
    mailoutbox.clear()
    seen(cast.tutor, AWAY_AFTER + timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        reply_to(cast, "We logged it for you.")
    [email] = mailoutbox
    assert email.to == ["tutor@example.test"]
    assert email.subject == "Studyhall Support replied to you"
    assert "We logged it for you." in email.body and "Sue Support" in email.body
    # More replies while they stay away: no more email.
    with django_capture_on_commit_callbacks(execute=True):
        reply_to(cast, "Anything else?")
    assert len(mailoutbox) == 1
    # They come back, leave again, and get the next reply by email.
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        chat.touch_presence(user=cast.tutor)
    with (
        time_machine.travel(timezone.now() + AWAY_AFTER + timedelta(minutes=3)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        reply_to(cast, "Still there?")
    assert len(mailoutbox) == 2


def test_no_email_while_the_chat_is_open(
    cast: Cast,
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    reply_to(cast, "setup")
    mailoutbox.clear()
    seen(cast.tutor, timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        reply_to(cast)
    assert mailoutbox == []


def test_a_reply_already_read_is_not_emailed(
    cast: Cast, mailoutbox: list[mail.EmailMessage]
) -> None:
    message = reply_to(cast)
    seen(cast.tutor, timedelta(hours=1))
    chat.mark_read(actor=cast.tutor)
    seen(cast.tutor, timedelta(hours=1))
    assert send_reply_email_if_away(message.pk) is False
    assert mailoutbox == []


def test_never_seen_users_are_away(cast: Cast, mailoutbox: list[mail.EmailMessage]) -> None:
    conversation = Conversation.objects.create(user=cast.student, status=ConversationStatus.OPEN)
    message = chat.post_agent_reply(actor=cast.agent, conversation_id=conversation.pk, body="Hi")
    assert send_reply_email_if_away(message.pk) is True
    assert [m.to for m in mailoutbox] == [["maya@example.test"]]
