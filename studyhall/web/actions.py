"""The post/redirect/get shape of a page's small actions (accept, cancel, close...)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError, Forbidden, NotFound
from studyhall.web.viewer import viewer_of


def act_and_redirect(
    request: HttpRequest, action: Callable[[User], str], *, to: str
) -> HttpResponse:
    """Run one service call for the viewer, say how it went, and go to `to`.

    `action` returns the success message; a domain refusal becomes the error message. Not
    found and not allowed propagate, for `refusals_as_pages` to answer."""
    try:
        done = action(viewer_of(request))
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(to)
