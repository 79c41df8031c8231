"""Studyhall's own error pages, in the demo (DEBUG) as in production.

In production Django renders 404.html, 403.html and 500.html through the handlers below. With
DEBUG on it would show its technical pages instead — a list of every URL pattern for a bad
id — which is not what someone trying the demo should meet. `FriendlyErrorsMiddleware` puts
the real pages in front of those unless STUDYHALL_TECHNICAL_ERRORS is set (for developers who
want the traceback in the browser; it is always in the log).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

logger = logging.getLogger("django.request")


def _page(
    request: HttpRequest, template: str, status: int, context: dict[str, object]
) -> HttpResponse:
    body: str
    try:
        body = render_to_string(template, context, request=request)
    except TemplateDoesNotExist:  # pragma: no cover - the templates ship with the project
        body = f"<h1>Error {status}</h1>"
    return HttpResponse(body, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, "404.html", 404, {})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception is not None and str(exception) else ""
    return _page(request, "403.html", 403, {"exception": message})


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page with the site's chrome (and the support bubble) when it can be drawn; a
    page that depends on nothing when even that fails."""
    try:
        return _page(request, "500.html", 500, {})
    except Exception:  # the error page must never itself fail
        logger.exception("The 500 page could not be drawn with the site's chrome.")
        return HttpResponse(render_to_string("500_bare.html"), status=500)


class FriendlyErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            self._active()
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
        ):
            # No URL pattern matched: Django drew its technical page.
            return page_not_found(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not self._active():
            return None
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=(type(exception), exception, exception.__traceback__),
            extra={"status_code": 500, "request": request},
        )
        return server_error(request)

    @staticmethod
    def _active() -> bool:
        return bool(settings.DEBUG) and not settings.STUDYHALL_TECHNICAL_ERRORS
