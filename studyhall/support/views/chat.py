"""The chat bubble's endpoints: the panel, sending, the polling fallback, and "seen".

A user only ever reaches their own conversations here: nothing takes a conversation id.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError
from studyhall.support import selectors
from studyhall.support.forms import MessageForm
from studyhall.support.services import chat as chat_service
from studyhall.web.params import int_param
from studyhall.web.viewer import HtmxRequest, viewer_of


def _panel_context(viewer: User) -> dict[str, Any]:
    history = selectors.chat_history(viewer)
    return {
        "chat_messages": history,
        "conversation": selectors.open_conversation_of(viewer),
        "last_id": history[-1].pk if history else 0,
        "form": MessageForm(),
    }


@login_required
@require_GET
def chat(request: HtmxRequest) -> HttpResponse:
    """The conversation as a page of its own (the bubble's panel without JavaScript)."""
    viewer = viewer_of(request)
    if viewer.is_support_agent:
        return redirect("support:inbox")
    chat_service.touch_presence(user=viewer)
    return render(request, "support/chat.html", _panel_context(viewer))


@login_required
@require_GET
def chat_panel(request: HtmxRequest) -> HttpResponse:
    viewer = viewer_of(request)
    chat_service.touch_presence(user=viewer)
    if viewer.is_support_agent:
        return render(request, "support/_agent_panel.html")
    return render(request, "support/_chat_panel.html", _panel_context(viewer))


@login_required
@require_GET
def chat_poll(request: HtmxRequest) -> HttpResponse:
    """The polling fallback while the socket is down: the messages after `after` (none when
    the panel has not been opened, `after=-1`) and the unread count."""
    viewer = viewer_of(request)
    chat_service.touch_presence(user=viewer)
    after = int_param(request.GET.get("after"))
    new = selectors.messages_after(viewer, after) if after is not None else []
    return render(
        request,
        "support/_chat_poll.html",
        {
            "new_messages": new,
            "unread": selectors.unread_count(viewer),
            "log_id": "support-chat-log",
        },
    )


@login_required
@require_POST
def chat_send(request: HtmxRequest) -> HttpResponse:
    viewer = viewer_of(request)
    form = MessageForm(request.POST)
    error = ""
    status = 200
    message = None
    if not form.is_valid():
        error, status = "That message could not be read; remove any unusual characters.", 400
    else:
        try:
            message = chat_service.post_user_message(actor=viewer, body=form.cleaned_data["body"])
        except DomainError as exc:
            error, status = exc.message, exc.http_status
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("support:chat")
    return render(
        request,
        "support/_chat_sent.html",
        {"sent": message, "error": error, "log_id": "support-chat-log"},
        status=status if status in (200, 400, 409, 422) else 400,
    )


@login_required
@require_POST
def chat_seen(request: HtmxRequest) -> HttpResponse:
    viewer = viewer_of(request)
    if not viewer.is_support_agent:
        chat_service.mark_read(actor=viewer)
    return HttpResponse(status=204)
