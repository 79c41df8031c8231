"""Refusals shown as pages.

Something the viewer may not know about does not exist for them (404); something they know
of but may not do gets a page that says why (403).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from studyhall.core.errors import Forbidden, NotFound
from studyhall.web.viewer import HtmxRequest

P = ParamSpec("P")
View = Callable[Concatenate[HtmxRequest, P], HttpResponse]


def forbidden_page(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "forbidden.html", {"message": message}, status=403)


def refusals_as_pages(view: View[P]) -> View[P]:
    @wraps(view)
    def wrapper(request: HtmxRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except Forbidden as exc:
            return forbidden_page(request, exc.message)

    return wrapper
