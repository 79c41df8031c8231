"""The support inbox, for agents only: conversations, requests to log sessions, corrections
waiting for a second agent, and one conversation with its user's context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from studyhall.support import selectors
from studyhall.support.access import require_agent
from studyhall.support.forms import MessageForm
from studyhall.support.models import Conversation
from studyhall.support.services import chat as chat_service
from studyhall.web.actions import act_and_redirect
from studyhall.web.params import int_param
from studyhall.web.refusals import refusals_as_pages
from studyhall.web.viewer import HtmxRequest, viewer_of

LOG_ID = "support-conversation-log"


@login_required
@require_GET
@refusals_as_pages
def inbox(request: HtmxRequest) -> HttpResponse:
    viewer = viewer_of(request)
    view = request.GET.get("view", "open")
    if view not in selectors.INBOX_VIEWS:
        view = "open"
    context = {
        "view": view,
        "views": selectors.INBOX_VIEWS,
        "conversations": selectors.inbox(viewer, view=view),
        "late_log_requests": selectors.pending_late_log_requests(),
        "corrections": selectors.pending_corrections(),
        "counts": selectors.inbox_counts(),
        "now": timezone.now(),
    }
    template = "support/inbox.html"
    if request.htmx and request.GET.get("part") == "list":
        template += "#inbox-lists"
    return render(request, template, context)


@login_required
@require_GET
@refusals_as_pages
def conversation(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    found = selectors.conversation_for_agent(viewer, pk)
    if request.htmx and request.GET.get("part") == "header":
        # The live header: another agent assigned, closed or reopened it.
        return _header(request, found)
    return render(request, "support/conversation.html", _conversation_context(viewer, found))


def _header(
    request: HtmxRequest, found: Conversation, *, announce: str = "", refusal: str = ""
) -> HttpResponse:
    context = {
        "conversation": found,
        "agents": selectors.agents(),
        "announce": announce,
        "refusal": refusal,
        "acted": bool(announce or refusal),
        "oob": True,
    }
    return render(request, "support/conversation.html#conversation-header", context)


def _conversation_context(viewer: User, found: Conversation, **extra: Any) -> dict[str, Any]:
    history = selectors.conversation_messages(found)
    signed_in = found.user is not None
    return {
        "conversation": found,
        "chat_messages": history,
        "last_id": history[-1].pk if history else 0,
        "context": selectors.user_context(found.user) if found.user is not None else None,
        "matches": [] if signed_in else selectors.accounts_with_email(found.contact_email),
        "agents": selectors.agents(),
        "form": MessageForm(),
        "log_id": LOG_ID,
        **extra,
    }


def _act(request: HtmxRequest, pk: int, run: Callable[[User], str]) -> HttpResponse:
    """Assign, close, reopen: without script, post/redirect/get; with htmx, the header and
    the buttons in place, with what happened read out."""
    to = reverse("support:conversation", kwargs={"pk": pk})
    if not request.htmx:
        return act_and_redirect(request, run, to=to)
    viewer = viewer_of(request)
    announce, refusal = "", ""
    try:
        announce = run(viewer)
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        refusal = exc.message
    return _header(
        request,
        selectors.conversation_for_agent(viewer, pk),
        **{"announce": announce, "refusal": refusal},
    )


@login_required
@require_GET
@refusals_as_pages
def conversation_poll(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    found = selectors.conversation_for_agent(viewer, pk)
    after = int_param(request.GET.get("after"))
    new = selectors.conversation_messages(found, after=after) if after is not None else []
    return render(request, "support/_chat_poll.html", {"new_messages": new, "log_id": LOG_ID})


@login_required
@require_POST
@refusals_as_pages
def reply(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    require_agent(viewer, action="answer support conversations")
    form = MessageForm(request.POST)
    error, status, sent = "", 200, None
    if not form.is_valid():
        error, status = "That message could not be read; remove any unusual characters.", 400
    else:
        try:
            sent = chat_service.post_agent_reply(
                actor=viewer, conversation_id=pk, body=form.cleaned_data["body"]
            )
        except (NotFound, Forbidden):
            raise
        except DomainError as exc:
            error, status = exc.message, exc.http_status
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("support:conversation", pk=pk)
    return render(
        request,
        "support/_chat_sent.html",
        {"sent": sent, "error": error, "log_id": LOG_ID},
        status=status,
    )


@login_required
@require_POST
@refusals_as_pages
def assign(request: HtmxRequest, pk: int) -> HttpResponse:
    raw = request.POST.get("agent", "")
    agent_id = int_param(raw)

    def run(viewer: User) -> str:
        if raw and agent_id is None:
            raise InvalidInput("Choose an agent from the list.", code="not_an_agent")
        found = chat_service.assign_conversation(
            actor=viewer, conversation_id=pk, agent_id=agent_id
        )
        if found.assigned_to is None:
            return "The conversation is unassigned: any agent can pick it up."
        if found.assigned_to_id == viewer.pk:
            return "The conversation is assigned to you."
        return f"The conversation is assigned to {found.assigned_to.display_name}."

    return _act(request, pk, run)


@login_required
@require_POST
@refusals_as_pages
def close(request: HtmxRequest, pk: int) -> HttpResponse:
    def run(viewer: User) -> str:
        chat_service.close_conversation(actor=viewer, conversation_id=pk)
        return "The conversation is closed. The user's next message starts a new one."

    return _act(request, pk, run)


@login_required
@require_POST
@refusals_as_pages
def reopen(request: HtmxRequest, pk: int) -> HttpResponse:
    def run(viewer: User) -> str:
        chat_service.reopen_conversation(actor=viewer, conversation_id=pk)
        return "The conversation is open again."

    return _act(request, pk, run)
