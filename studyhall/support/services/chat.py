"""The support chat: a user writes to Support, agents answer, assign, close and reopen.

A user always writes into their one open conversation (made on their first message); agents
name the conversation they act on. Pushes to sockets and the "Support replied" email run after
the transaction commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from studyhall.core.text import clean_text
from studyhall.support.access import require_agent
from studyhall.support.broadcast import after_commit_conversation, after_commit_message
from studyhall.support.models import ChatPresence, Conversation, ConversationStatus, Message
from studyhall.support.services.notify import after_commit_reply_email, send_visitor_reply
from studyhall.tutoring.models import Session

MESSAGE_MAX_CHARS = 2000
# A presence write at most this often per user, however often a page polls.
PRESENCE_RESOLUTION = timedelta(seconds=20)


def _clean_body(body: object) -> str:
    if not isinstance(body, str):
        raise InvalidInput("A message is text.", code="invalid_message")
    text = clean_text(body, field="Your message", max_length=MESSAGE_MAX_CHARS)
    if not text:
        raise InvalidInput("Type a message first.", code="empty_message")
    return text


def _locked_conversation(conversation_id: object) -> Conversation:
    if (
        isinstance(conversation_id, bool)
        or not isinstance(conversation_id, int)
        or conversation_id <= 0
    ):
        raise NotFound("There is no such conversation.")
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("user", "assigned_to")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise NotFound("There is no such conversation.")
    return conversation


def post_user_message(*, actor: User, body: object) -> Message:
    """The user writes to Support, in their open conversation (a new one if they have none)."""
    if actor.is_support_agent:
        raise Forbidden(
            "Support agents answer from the support inbox, not the chat bubble.",
            code="agents_use_inbox",
        )
    text = _clean_body(body)
    with transaction.atomic():
        conversation = _open_conversation_of(actor)
        now = timezone.now()
        message = Message.objects.create(
            conversation=conversation, author=actor, from_agent=False, body=text
        )
        conversation.last_message_at = now
        conversation.waiting_since = conversation.waiting_since or now
        # Writing in the panel means having read what was above it.
        conversation.user_read_upto = message.pk
        conversation.save(update_fields=["last_message_at", "waiting_since", "user_read_upto"])
        _touch(actor, now)
        after_commit_message(message, conversation)
    return message


def _open_conversation_of(user: User) -> Conversation:
    locked = Conversation.objects.select_for_update(of=("self",)).select_related("user")
    conversation = locked.filter(user=user, status=ConversationStatus.OPEN).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            return Conversation.objects.create(user=user)
    except IntegrityError:
        # Another tab's first message made it a moment ago (one open conversation per user).
        return locked.get(user=user, status=ConversationStatus.OPEN)


def post_agent_reply(*, actor: User, conversation_id: object, body: object) -> Message:
    """An agent answers; an unassigned conversation becomes theirs."""
    require_agent(actor, action="answer support conversations")
    with transaction.atomic():
        conversation = _locked_conversation(conversation_id)
        text = _clean_body(body)
        if not conversation.is_open:
            raise Conflict(
                "This conversation is closed; reopen it to answer.", code="conversation_closed"
            )
        now = timezone.now()
        message = Message.objects.create(
            conversation=conversation, author=actor, from_agent=True, body=text
        )
        conversation.last_message_at = now
        conversation.waiting_since = None
        fields = ["last_message_at", "waiting_since"]
        if conversation.assigned_to_id is None:
            conversation.assigned_to = actor
            fields.append("assigned_to")
            _audit(actor, "support.conversation_assigned", conversation, agent_id=actor.pk)
        conversation.save(update_fields=fields)
        after_commit_message(message, conversation)
        if conversation.signed_in:
            after_commit_reply_email(message_id=message.pk)
        else:
            # A visitor has no chat to read it in: every reply goes to their email.
            send_visitor_reply.enqueue(message_id=message.pk)
    return message


def start_conversation(
    *, actor: User, user_id: object, body: object, session_id: object = None
) -> Message:
    """An agent writes first, to a person (about one of their sessions, when `session_id` is
    given). It lands in the person's open conversation, or starts one assigned to the agent;
    the person sees it in their chat panel."""
    require_agent(actor, action="start support conversations")
    person = _positive(user_id)
    user = User.objects.filter(pk=person, is_active=True).first() if person else None
    if user is None:
        raise NotFound("There is no such person.", code="person_not_found")
    if user.is_support_agent:
        raise InvalidInput(
            "Support agents talk to each other outside Studyhall's chat.",
            code="agents_use_inbox",
        )
    session = None
    if session_id is not None:
        pk = _positive(session_id)
        session = Session.objects.filter(pk=pk).first() if pk else None
        if session is None:
            raise NotFound("There is no such session.")
        if (
            session.tutor_id != user.pk
            and not session.participants.filter(user_id=user.pk).exists()
        ):
            raise InvalidInput(
                f"{user.display_name} is not on that session.", code="not_on_session"
            )
    text = _clean_body(body)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update(of=("self",)).select_related("user")
        conversation = locked.filter(user=user, status=ConversationStatus.OPEN).first()
        started = conversation is None
        if conversation is None:
            try:
                with transaction.atomic():
                    conversation = Conversation.objects.create(
                        user=user, session=session, assigned_to=actor
                    )
            except IntegrityError:
                conversation = locked.get(user=user, status=ConversationStatus.OPEN)
                started = False
        now = timezone.now()
        message = Message.objects.create(
            conversation=conversation, author=actor, from_agent=True, body=text
        )
        conversation.last_message_at = now
        conversation.waiting_since = None
        fields = ["last_message_at", "waiting_since"]
        if conversation.session_id is None and session is not None:
            conversation.session = session
            fields.append("session")
        if conversation.assigned_to_id is None:
            conversation.assigned_to = actor
            fields.append("assigned_to")
        conversation.save(update_fields=fields)
        audit.record(
            actor=actor,
            action="support.conversation_started" if started else "support.conversation_joined",
            session_id=session.pk if session else None,
            organization_id=session.organization_id if session else None,
            conversation_id=conversation.pk,
            user_id=user.pk,
        )
        after_commit_message(message, conversation)
        after_commit_reply_email(message_id=message.pk)
    return message


def _positive(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def assign_conversation(
    *, actor: User, conversation_id: object, agent_id: int | None
) -> Conversation:
    """Give the conversation to an agent (`agent_id`), or back to everyone (None)."""
    require_agent(actor, action="assign support conversations")
    with transaction.atomic():
        conversation = _locked_conversation(conversation_id)
        agent = None
        if agent_id is not None:
            agent = User.objects.filter(pk=agent_id, is_support_agent=True, is_active=True).first()
            if agent is None:
                raise InvalidInput(
                    "Conversations can be assigned only to a support agent.",
                    code="not_an_agent",
                )
        if conversation.assigned_to_id == (agent.pk if agent else None):
            return conversation
        conversation.assigned_to = agent
        conversation.save(update_fields=["assigned_to"])
        _audit(actor, "support.conversation_assigned", conversation, agent_id=agent_id)
        after_commit_conversation(conversation)
    return conversation


def close_conversation(*, actor: User, conversation_id: object) -> Conversation:
    require_agent(actor, action="close support conversations")
    with transaction.atomic():
        conversation = _locked_conversation(conversation_id)
        if not conversation.is_open:
            return conversation
        conversation.status = ConversationStatus.CLOSED
        conversation.closed_at = timezone.now()
        conversation.closed_by = actor
        conversation.waiting_since = None
        conversation.save(update_fields=["status", "closed_at", "closed_by", "waiting_since"])
        _audit(actor, "support.conversation_closed", conversation)
        after_commit_conversation(conversation)
    return conversation


def reopen_conversation(*, actor: User, conversation_id: object) -> Conversation:
    require_agent(actor, action="reopen support conversations")
    with transaction.atomic():
        conversation = _locked_conversation(conversation_id)
        if conversation.is_open:
            return conversation
        others = Conversation.objects.filter(status=ConversationStatus.OPEN)
        if conversation.signed_in:
            others = others.filter(user=conversation.user)
        else:
            others = others.filter(
                user__isnull=True, contact_email__iexact=conversation.contact_email
            )
        if others.exists():
            raise Conflict(
                f"{conversation.person_name} has another open conversation; answer there instead.",
                code="conversation_already_open",
            )
        conversation.status = ConversationStatus.OPEN
        conversation.closed_at = None
        conversation.closed_by = None
        conversation.save(update_fields=["status", "closed_at", "closed_by"])
        _audit(actor, "support.conversation_reopened", conversation)
        after_commit_conversation(conversation)
    return conversation


def mark_read(*, actor: User) -> None:
    """The user has seen every message of their conversations (the panel is open)."""
    latest = Message.objects.filter(conversation=OuterRef("pk")).order_by("-id").values("id")[:1]
    with transaction.atomic():
        Conversation.objects.filter(user=actor).update(
            user_read_upto=Coalesce(Subquery(latest), Value(0))
        )
        _touch(actor, timezone.now())


def touch_presence(*, user: User) -> None:
    """The user has the chat in front of them (socket heartbeat, poll, panel)."""
    _touch(user, timezone.now())


def _touch(user: User, now: datetime) -> None:
    if ChatPresence.objects.filter(user=user, last_seen_at__gte=now - PRESENCE_RESOLUTION).exists():
        return
    ChatPresence.objects.update_or_create(user=user, defaults={"last_seen_at": now})


def _audit(actor: User, action: str, conversation: Conversation, **data: Any) -> None:
    audit.record(actor=actor, action=action, conversation_id=conversation.pk, **data)
