"""The one shape of Support's decision endpoints (approve or decline a late-log request,
approve or reject a correction): the page's durable transaction around one service call, a
success message when it changed something, a note when it had already been decided that
way, the refusal as the page's message, and back to the request's page. Not found, and not
allowed for a non-agent, become the 404 and 403 pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError, Forbidden, NotFound
from studyhall.web.viewer import HtmxRequest, viewer_of

# Refusals that are about this decision, not about who the viewer is: shown on the page.
SHOWN_FORBIDDEN = frozenset({"second_agent_required"})


class Decided(Protocol):
    @property
    def changed(self) -> bool: ...


D = TypeVar("D", bound=Decided)


def decide(
    request: HtmxRequest,
    run: Callable[[User], D],
    *,
    done: Callable[[D], str],
    repeat: str,
    to: str,
) -> HttpResponse:
    try:
        with transaction.atomic(durable=True):
            decision = run(viewer_of(request))
    except NotFound:
        raise
    except Forbidden as exc:
        if exc.code not in SHOWN_FORBIDDEN:
            raise
        messages.error(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if decision.changed:
            messages.success(request, done(decision))
        else:
            messages.info(request, repeat)
    return redirect(to)
