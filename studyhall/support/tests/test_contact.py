"""The contact form for someone who cannot sign in: checked before anything is written,
limited per address and per email, landing in the inbox as "not signed in", and answered by
email through a task enqueued with the reply."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from conftest import Cast
from studyhall.core.errors import InvalidInput
from studyhall.core.models import AuditEntry
from studyhall.support.models import Conversation, ConversationStatus, Message
from studyhall.support.services import chat
from studyhall.support.services.contact import contact_support
from studyhall.testing.tasks import queued_task_paths, run_queued_tasks

HTMX = {"HX-Request": "true"}
URL = "/support/contact/"
GOOD = {"name": "Jordan Rivera", "email": "Jordan@College.EDU", "message": "I can't sign in."}


def post(client: Client, data: dict[str, str], **headers: Any) -> Any:
    return client.post(URL, data, headers=headers or None)


def nothing_written() -> bool:
    return not Conversation.objects.exists() and not Message.objects.exists()


def test_a_visitor_writes_and_it_lands_in_the_inbox(client: Client, cast: Cast) -> None:
    response = post(client, GOOD, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        '<p class="support-contact__result" id="support-contact-result" role="status" '
        'aria-live="polite">Thanks — your message is with Studyhall Support. We answer by '
        "email, usually within a working day.</p>"
    ) in html
    # The form comes back empty, ready for another message.
    assert "Jordan Rivera" not in html
    conversation = Conversation.objects.get()
    assert (conversation.user, conversation.contact_name, conversation.contact_email) == (
        None,
        "Jordan Rivera",
        "Jordan@college.edu",
    )
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.waiting_since is not None and conversation.assigned_to is None
    message = Message.objects.get()
    assert (message.author, message.from_agent, message.body) == (None, False, "I can't sign in.")
    entry = AuditEntry.objects.get(action="support.contact_received")
    assert entry.actor_id is None
    assert entry.data == {"conversation_id": conversation.pk, "message_id": message.pk}

    client.force_login(cast.agent)
    inbox = client.get(reverse("support:inbox")).content.decode()
    assert (
        f'href="{reverse("support:conversation", args=[conversation.pk])}">Jordan Rivera</a>'
        in inbox
    )
    assert '<span class="marker marker--visitor">Not signed in</span>' in inbox
    assert "Jordan@college.edu" in inbox
    page = client.get(reverse("support:conversation", args=[conversation.pk])).content.decode()
    assert 'Jordan Rivera <span class="marker marker--visitor">Not signed in</span></h1>' in page
    assert "Not signed in: your reply is emailed to Jordan@college.edu." in page
    assert '<span class="support-msg__author">Jordan Rivera</span>' in page


def test_without_script_the_form_posts_and_redirects(client: Client, db: None) -> None:
    response = post(client, GOOD)
    assert response.status_code == 302 and response["Location"] == "/support/contact/?sent=1"
    page = client.get(response["Location"]).content.decode()
    assert "Thanks — your message is with Studyhall Support." in page
    assert Message.objects.count() == 1


def test_the_form_is_labelled_and_the_page_has_it(client: Client, db: None) -> None:
    html = client.get(URL).content.decode()
    assert "<h1>Contact Support</h1>" in html
    for key, label in [
        ("name", "Your name"),
        ("email", "Email to answer to"),
        ("message", "How can we help?"),
    ]:
        assert f'<label for="id_{key}">{label}</label>' in html
    assert 'type="email" name="email"' in html
    partial = client.get(URL, headers=HTMX).content.decode()
    assert partial.lstrip().startswith("<form") or "<form" in partial
    assert "<html" not in partial


def test_signed_in_people_use_the_chat(client: Client, cast: Cast) -> None:
    client.force_login(cast.tutor)
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"] == reverse("support:chat")


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"email": "not-an-email"}, "email", "That is not an email address we can answer to"),
        ({"email": ""}, "email", "Give the email address we should answer to."),
        ({"email": "a@" + "b" * 260 + ".edu"}, "email", "That email address is too long"),
        ({"message": "   "}, "message", "Tell us what you need help with."),
        (
            {"message": "x" * 2001},
            "message",
            "Your message is 2,001 characters long; keep it under 2,000.",
        ),
        ({"name": ""}, "name", "Tell us your name."),
        ({"message": "bad \x07 bell"}, "message", "invisible control character"),
        ({"message": "bad \x00 byte"}, "message", "Null characters are not allowed."),
    ],
)
def test_bad_input_is_marked_on_its_field_and_writes_nothing(
    client: Client, db: None, data: dict[str, str], field: str, error: str
) -> None:
    response = post(client, {**GOOD, **data}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert error in html
    assert f'id="id_{field}"' in html and 'aria-invalid="true"' in html
    assert "Fix the field marked below, then send again." in html
    assert nothing_written()
    assert not AuditEntry.objects.exists()


def test_every_bad_field_is_marked_at_once(client: Client, db: None) -> None:
    response = post(client, {"name": "", "email": "nope", "message": ""}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Fix the fields marked below, then send again." in html
    assert html.count('aria-invalid="true"') == 3
    assert nothing_written()


def test_the_service_checks_too(db: None) -> None:
    with pytest.raises(InvalidInput) as caught:
        contact_support(name="Jo", email="jo@@college", message="Help")
    assert caught.value.code == "invalid_email"
    assert caught.value.extra["fields"] == {
        "email": "That is not an email address we can answer to (for example name@college.edu)."
    }
    assert nothing_written()


def test_a_second_message_joins_the_open_conversation(db: None) -> None:
    first = contact_support(name="Jordan", email="jordan@college.edu", message="One")
    second = contact_support(name="Jordan R.", email="JORDAN@college.edu", message="Two")
    assert first.conversation_id == second.conversation_id
    conversation = Conversation.objects.get()
    assert conversation.contact_name == "Jordan R."
    other = contact_support(name="Sam", email="sam@college.edu", message="Three")
    assert other.conversation_id != first.conversation_id


def test_too_many_messages_per_email_are_refused_with_429(
    client: Client, db: None, settings: Any
) -> None:
    settings.SUPPORT_CONTACT_RATE_LIMIT = "10/h/ip,3/h/key"
    for n in range(3):
        assert post(client, {**GOOD, "message": f"Message {n}"}, **HTMX).status_code == 200
    response = post(client, {**GOOD, "email": "jordan@COLLEGE.edu", "message": "4"}, **HTMX)
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    html = response.content.decode()
    assert (
        '<p class="alert alert--error" id="support-contact-refused" role="alert">You have sent '
        "several messages in a short time, from this address or for this email. Support has "
        "them; you can write again within 60 minutes.</p>"
    ) in html
    assert Message.objects.count() == 3
    # Another email from the same address still gets through, up to the address's limit.
    assert post(client, {**GOOD, "email": "sam@college.edu"}, **HTMX).status_code == 200


def test_too_many_messages_from_one_address_are_refused(
    client: Client, db: None, settings: Any
) -> None:
    settings.SUPPORT_CONTACT_RATE_LIMIT = "2/h/ip,5/h/key"
    for n in range(2):
        response = post(client, {**GOOD, "email": f"p{n}@college.edu"}, **HTMX)
        assert response.status_code == 200
    refused = post(client, {**GOOD, "email": "p9@college.edu"})
    assert refused.status_code == 429  # without script too: the page says so
    assert "you can write again within 60 minutes" in refused.content.decode()
    assert Message.objects.count() == 2


def test_bad_input_is_not_counted_against_the_limit(
    client: Client, db: None, settings: Any
) -> None:
    settings.SUPPORT_CONTACT_RATE_LIMIT = "2/h/ip,2/h/key"
    for _ in range(3):
        assert post(client, {**GOOD, "message": ""}, **HTMX).status_code == 422
    assert post(client, GOOD, **HTMX).status_code == 200


def test_the_agents_reply_is_emailed_by_a_task(client: Client, cast: Cast) -> None:
    sent = contact_support(name="Jordan Rivera", email="jordan@college.edu", message="Help!")
    mail.outbox.clear()
    reply = chat.post_agent_reply(
        actor=cast.agent, conversation_id=sent.conversation_id, body="Use the reset link."
    )
    assert queued_task_paths() == ["studyhall.support.services.notify.send_visitor_reply"]
    assert mail.outbox == []
    assert run_queued_tasks() == 1
    [email] = mail.outbox
    assert email.to == ["jordan@college.edu"]
    assert email.subject == "Studyhall Support answered your message"
    assert email.body.startswith(
        "Hi Jordan,\n\nYou wrote to Studyhall Support through the contact form."
    )
    assert "Sue Support from Studyhall Support answered:\n\nUse the reset link.\n" in email.body
    reply.refresh_from_db()
    assert reply.emailed_at is not None
    # A rerun of the task (a worker that died before recording it) sends nothing again.
    run_queued_tasks(again=True)
    assert len(mail.outbox) == 1
    conversation = Conversation.objects.get()
    assert conversation.assigned_to == cast.agent and conversation.waiting_since is None


def test_a_failed_reply_enqueues_nothing(cast: Cast) -> None:
    sent = contact_support(name="Jordan", email="jordan@college.edu", message="Help!")
    chat.close_conversation(actor=cast.agent, conversation_id=sent.conversation_id)
    with pytest.raises(Exception, match="closed"):
        chat.post_agent_reply(actor=cast.agent, conversation_id=sent.conversation_id, body="Hi")
    assert queued_task_paths() == []


def test_reopening_a_visitors_conversation_checks_their_email(cast: Cast) -> None:
    first = contact_support(name="Jordan", email="jordan@college.edu", message="One")
    chat.close_conversation(actor=cast.agent, conversation_id=first.conversation_id)
    contact_support(name="Jordan", email="jordan@college.edu", message="Two")
    other = contact_support(name="Sam", email="sam@college.edu", message="Three")
    chat.close_conversation(actor=cast.agent, conversation_id=other.conversation_id)
    with pytest.raises(Exception, match="Jordan has another open conversation"):
        chat.reopen_conversation(actor=cast.agent, conversation_id=first.conversation_id)
    # Another visitor's open conversation is no reason to refuse.
    assert chat.reopen_conversation(actor=cast.agent, conversation_id=other.conversation_id).is_open
