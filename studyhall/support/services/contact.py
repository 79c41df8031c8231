"""The contact form: someone who cannot sign in writes to Support with a name, an email and a
message. It lands in the inbox as a conversation of someone not signed in; Support's replies
are emailed to the address given.

A second message from the same address while its conversation is open joins that
conversation, as a help desk threads mail from one sender.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from studyhall.core import audit
from studyhall.core.errors import InvalidInput
from studyhall.core.text import clean_text
from studyhall.support.broadcast import after_commit_message
from studyhall.support.models import Conversation, ConversationStatus, Message
from studyhall.support.services.chat import MESSAGE_MAX_CHARS

NAME_MAX_CHARS = 120
EMAIL_MAX_CHARS = 254


def _clean_name(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("Your name is text.", code="invalid_name", field="name")
    name = " ".join(clean_text(value, field="Your name", max_length=NAME_MAX_CHARS).split())
    if not name:
        raise InvalidInput("Tell us your name.", code="name_required", field="name")
    return name


def _clean_email(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("An email address is text.", code="invalid_email", field="email")
    email = value.strip()
    if not email:
        raise InvalidInput(
            "Give the email address we should answer to.", code="email_required", field="email"
        )
    if len(email) > EMAIL_MAX_CHARS:
        raise InvalidInput(
            f"That email address is too long; keep it under {EMAIL_MAX_CHARS} characters.",
            code="invalid_email",
            field="email",
        )
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput(
            "That is not an email address we can answer to (for example name@college.edu).",
            code="invalid_email",
            field="email",
        ) from exc
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _clean_message(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("A message is text.", code="invalid_message", field="message")
    text = clean_text(value, field="Your message", max_length=MESSAGE_MAX_CHARS)
    if not text:
        raise InvalidInput(
            "Tell us what you need help with.", code="empty_message", field="message"
        )
    return text


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    message: str


def check_contact(*, name: object, email: object, message: object) -> Contact:
    """The contact form's fields, all checked at once: the refusal names every field to fix
    (`fields`, field to message), and carries the first one's code and message."""
    checks = (
        ("name", _clean_name, name),
        ("email", _clean_email, email),
        ("message", _clean_message, message),
    )
    values: dict[str, str] = {}
    problems: dict[str, InvalidInput] = {}
    for key, clean, value in checks:
        try:
            values[key] = clean(value)
        except InvalidInput as exc:
            problems[key] = exc
    if problems:
        key, first = next(iter(problems.items()))
        raise InvalidInput(
            first.message,
            code=first.code,
            field=key,
            fields={k: exc.message for k, exc in problems.items()},
        )
    return Contact(**values)


def contact_support(*, name: object, email: object, message: object) -> Message:
    """A visitor's message to Support. Every field is checked before anything is written."""
    checked = check_contact(name=name, email=email, message=message)
    clean_name, clean_email, text = checked.name, checked.email, checked.message
    with transaction.atomic():
        now = timezone.now()
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .filter(
                user__isnull=True,
                contact_email__iexact=clean_email,
                status=ConversationStatus.OPEN,
            )
            .order_by("-id")
            .first()
        )
        if conversation is None:
            conversation = Conversation.objects.create(
                contact_name=clean_name, contact_email=clean_email
            )
        elif conversation.contact_name != clean_name:
            conversation.contact_name = clean_name
        written = Message.objects.create(
            conversation=conversation, author=None, from_agent=False, body=text
        )
        conversation.last_message_at = now
        conversation.waiting_since = conversation.waiting_since or now
        conversation.save(update_fields=["contact_name", "last_message_at", "waiting_since"])
        audit.record(
            actor=None,
            action="support.contact_received",
            conversation_id=conversation.pk,
            message_id=written.pk,
        )
        after_commit_message(written, conversation)
    return written
