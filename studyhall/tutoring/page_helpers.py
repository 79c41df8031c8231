"""The post/redirect/get shape of the small actions on a session's page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from studyhall.accounts.models import User
from studyhall.accounts.pages import viewer_of
from studyhall.core.errors import DomainError, Forbidden, NotFound


def act_on_session(request: HttpRequest, pk: int, action: Callable[[User], str]) -> HttpResponse:
    """Run one service call, say how it went, and go back to the session (post/redirect/get).
    Not found and not allowed propagate, for `refusals_as_pages` to answer."""
    try:
        done = action(viewer_of(request))
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("tutoring:detail", pk=pk)
