"""What the session pages share: who is asking, refusals shown as pages, and the
post/redirect/get shape of the small session actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.middleware import HtmxDetails

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError, Forbidden, NotFound


class HtmxRequest(HttpRequest):
    """What reaches these views: HtmxMiddleware has run."""

    htmx: HtmxDetails


P = ParamSpec("P")
SessionView = Callable[Concatenate[HtmxRequest, int, P], HttpResponse]


def refusals_as_pages(view: SessionView[P]) -> SessionView[P]:
    """Outside the session's organization it does not exist (404); inside it, a refusal gets
    a page that says why (403)."""

    @wraps(view)
    def wrapper(request: HtmxRequest, pk: int, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(request, pk, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except Forbidden as exc:
            return render(request, "tutoring/forbidden.html", {"message": exc.message}, status=403)

    return wrapper


def viewer_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


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
