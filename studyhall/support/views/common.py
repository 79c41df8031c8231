"""What every Support view shares: the signed-in viewer, and refusals as pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from studyhall.accounts.models import User
from studyhall.core.errors import Forbidden, NotFound


class HtmxRequest(HttpRequest):
    """What reaches these views: HtmxMiddleware has run."""

    htmx: HtmxDetails


P = ParamSpec("P")
View = Callable[Concatenate[HtmxRequest, P], HttpResponse]


def viewer_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def refusals_as_pages(view: View[P]) -> View[P]:
    """Something the viewer may not know about does not exist (404); something they know of
    but may not do gets a page that says why (403)."""

    @wraps(view)
    def wrapper(request: HtmxRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except Forbidden as exc:
            return render(request, "support/forbidden.html", {"message": exc.message}, status=403)

    return wrapper


def int_param(value: str | None) -> int | None:
    """A positive whole number from a query or form value, else None."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None
