"""Support's notices, each sent only after the transaction that caused it commits: decisions on
late-log requests and corrections go through `studyhall.notifications` (in the app, and by
email as each person chose); a reply reaches someone away from the chat by email.

Callbacks take ids and read what was committed; `robust` keeps a mail-server hiccup from
turning a committed change into an error page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from studyhall.accounts.models import User
from studyhall.notifications.emails import Address, send_templated
from studyhall.notifications.models import Kind
from studyhall.notifications.services import Message, deliver
from studyhall.support.models import (
    ChatPresence,
    Conversation,
    CorrectionProposal,
    LateLogRequest,
)
from studyhall.support.models import Message as ChatMessage
from studyhall.tutoring.services.notify import session_link

# A user whose chat has not been open for this long is away: an agent's reply reaches them
# by email too (the chat's socket says it is open about once a minute).
AWAY_AFTER = timedelta(minutes=5)


def after_commit_reply_email(*, message_id: int) -> None:
    def send() -> None:
        send_reply_email_if_away(message_id)

    transaction.on_commit(send, robust=True)


def is_away(user: User, *, now: datetime) -> bool:
    seen = ChatPresence.objects.filter(user=user).values_list("last_seen_at", flat=True).first()
    return seen is None or now - seen >= AWAY_AFTER


def send_reply_email_if_away(message_id: int) -> bool:
    """Email the user an agent's reply when they are away and have not been emailed since
    they were last here (one email per absence, however many replies). True when sent."""
    message = (
        ChatMessage.objects.select_related("conversation__user", "author")
        .filter(pk=message_id, from_agent=True)
        .first()
    )
    if message is None:
        return False
    conversation = message.conversation
    user = conversation.user
    if user is None:
        # Someone not signed in: `send_visitor_reply` emails every reply.
        return False
    now = timezone.now()
    if message.pk <= conversation.user_read_upto or not is_away(user, now=now):
        return False
    seen = ChatPresence.objects.filter(user=user).values_list("last_seen_at", flat=True).first()
    emailed = conversation.reply_emailed_at
    if emailed is not None and (seen is None or emailed > seen):
        return False
    # An agent who wrote first did not reply to anything.
    started = not conversation.messages.filter(from_agent=False).exists()
    send_templated(
        to=[user],
        subject="Studyhall Support wrote to you" if started else "Studyhall Support replied to you",
        template="support/email/reply",
        context={"message": message, "conversation": conversation, "started": started},
    )
    Conversation.objects.filter(pk=conversation.pk).update(reply_emailed_at=now)
    return True


@task()
def send_visitor_reply(message_id: int) -> bool:
    """Background task: an agent's reply to someone who wrote through the contact form, to the
    address they gave. Enqueued with the reply; a rerun sends nothing twice."""
    with transaction.atomic():
        message = (
            ChatMessage.objects.select_for_update(of=("self",))
            .select_related("conversation", "author")
            .filter(pk=message_id, from_agent=True, conversation__user__isnull=True)
            .first()
        )
        if message is None or message.emailed_at is not None:
            return False
        conversation = message.conversation
        send_templated(
            to=[Address(name=conversation.contact_name, email=conversation.contact_email)],
            subject="Studyhall Support answered your message",
            template="support/email/visitor_reply",
            context={"message": message, "conversation": conversation},
        )
        message.emailed_at = timezone.now()
        message.save(update_fields=["emailed_at"])
    return True


def after_commit_late_log_decided(*, request_id: int) -> None:
    def send() -> None:
        send_late_log_decision(request_id)

    transaction.on_commit(send, robust=True)


def send_late_log_decision(request_id: int) -> int:
    """Tell the tutor what Support decided about their request, in the app and by email."""
    request = (
        LateLogRequest.objects.select_related(
            "session__course",
            "session__organization",
            "requested_by",
            "decided_by",
            "completion__earning",
        )
        .filter(pk=request_id)
        .first()
    )
    if request is None or request.decided_by_id is None:
        return 0
    approved = request.completion_id is not None
    code = request.session.course.code
    subject = "Support logged your session" if approved else "Support could not log your session"
    title = (
        f"Support logged your {code} session for you."
        if approved
        else f"Support could not log your {code} session: {request.decline_reason}"
    )
    message = Message(
        user=request.requested_by,
        title=title,
        subject=f"{subject} ({code})",
        template="support/email/late_log_decided",
        context={"request": request, "session": request.session, "approved": approved},
    )
    return deliver(
        [message],
        kind=Kind.LATE_LOG,
        event="late_log_approved" if approved else "late_log_declined",
        session_id=request.session_id,
        link=session_link(request.session_id),
    )


CORRECTION_SUBJECTS = {
    "proposed": "A correction is waiting for your approval",
    "approved": "A correction to a session's pay was applied",
    "rejected": "A proposed correction was rejected",
}


def after_commit_correction_event(*, proposal_id: int, event: str, actor_id: int) -> None:
    def send() -> None:
        send_correction_event(proposal_id, event, actor_id)

    transaction.on_commit(send, robust=True)


def send_correction_event(proposal_id: int, event: str, actor_id: int) -> int:
    """Proposed: every other agent (one of them must approve). Approved: the tutor and the
    proposer. Rejected: the proposer. Never the agent who acted."""
    proposal = (
        CorrectionProposal.objects.select_related(
            "session__course", "session__tutor", "session__organization", "proposed_by"
        )
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None or event not in CORRECTION_SUBJECTS:
        return 0
    if event == "proposed":
        people = list(User.objects.filter(is_support_agent=True, is_active=True))
    elif event == "approved":
        people = [proposal.session.tutor, proposal.proposed_by]
    else:
        people = [proposal.proposed_by]
    actor = User.objects.filter(pk=actor_id).first()
    recipients = {u.pk: u for u in people if u.pk != actor_id}
    code = proposal.session.course.code
    titles = {
        "proposed": f"A correction to the pay for a {code} session waits for your approval.",
        "approved": f"A correction to the pay for a {code} session was applied.",
        "rejected": f"Your proposed correction to a {code} session was rejected.",
    }
    messages = [
        Message(
            user=user,
            title=titles[event],
            subject=CORRECTION_SUBJECTS[event],
            template="support/email/correction",
            context={
                "proposal": proposal,
                "session": proposal.session,
                "event": event,
                "actor": actor,
            },
        )
        for user in recipients.values()
    ]
    return deliver(
        messages,
        kind=Kind.CORRECTION,
        event=f"correction_{event}",
        session_id=proposal.session_id,
        link=session_link(proposal.session_id),
    )
