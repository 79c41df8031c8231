"""Agents' own pages besides the inbox: one search over people and sessions, a person's
Support page (where a conversation can be started), and the sessions the agent is handling."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from studyhall.core.errors import DomainError, Forbidden, NotFound
from studyhall.support import selectors
from studyhall.support.access import require_agent
from studyhall.support.forms import StartConversationForm
from studyhall.support.services import chat as chat_service
from studyhall.web.params import int_param
from studyhall.web.refusals import refusals_as_pages
from studyhall.web.viewer import HtmxRequest, viewer_of


@login_required
@require_GET
@refusals_as_pages
def search(request: HtmxRequest) -> HttpResponse:
    viewer = viewer_of(request)
    require_agent(viewer, action="search people and sessions")
    query = selectors.SearchQuery.parse(request.GET.get("q"))
    people = Paginator(selectors.search_people(viewer, query), selectors.SEARCH_PER_PAGE)
    context = {
        "query": query,
        "page": people.get_page(request.GET.get("page")),
        "pager_query": urlencode({"q": query.text}),
        "sessions": selectors.search_sessions(viewer, query),
    }
    template = "support/search.html"
    if request.htmx and request.GET.get("part") == "results":
        template += "#search-results"
    return render(request, template, context)


@login_required
@require_GET
@refusals_as_pages
def person(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    found = selectors.person_for_agent(viewer, pk)
    return render(
        request,
        "support/person.html",
        {"person": found, "form": StartConversationForm(), "now": timezone.now()},
    )


@login_required
@require_POST
@refusals_as_pages
def start_conversation(request: HtmxRequest, pk: int) -> HttpResponse:
    """Write to a person first (from their page, a search result or a session); the
    conversation page follows. A refusal goes back to the page the form was on."""
    viewer = viewer_of(request)
    require_agent(viewer, action="start support conversations")
    form = StartConversationForm(request.POST)
    raw_session = request.POST.get("session", "")
    session_id = int_param(raw_session) if raw_session else None
    if raw_session and session_id is None:
        raise NotFound("There is no such session.")
    body = form.cleaned_data["body"] if form.is_valid() else None
    try:
        with transaction.atomic(durable=True):
            sent = chat_service.start_conversation(
                actor=viewer, user_id=pk, body=body, session_id=session_id
            )
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        back = request.POST.get("back", "")
        if back and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(back)
        return redirect("support:person", pk=pk)
    messages.success(request, f"Sent to {sent.conversation.person_name}.")
    return redirect("support:conversation", pk=sent.conversation_id)


@login_required
@require_GET
@refusals_as_pages
def my_sessions(request: HtmxRequest) -> HttpResponse:
    viewer = viewer_of(request)
    rows = Paginator(selectors.agent_sessions(viewer), selectors.AGENT_SESSIONS_PER_PAGE)
    return render(
        request,
        "support/agent_sessions.html",
        {"page": rows.get_page(request.GET.get("page")), "now": timezone.now()},
    )
