"""Middleware for serving under load: a dry connection pool answers 503, never 500."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.db import OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from studyhall.core.database import (
    BUSY_CODE,
    BUSY_MESSAGE,
    RETRY_AFTER_SECONDS,
    is_pool_exhausted,
)

PROBLEM_TYPE = "https://studyhall.dev/problems/" + BUSY_CODE


def busy_response(request: HttpRequest) -> HttpResponse:
    """A 503 in the shape the caller reads: problem+json for the API, a page otherwise."""
    if request.path.startswith("/api/"):
        body = {
            "type": PROBLEM_TYPE,
            "title": "Service unavailable",
            "status": 503,
            "detail": BUSY_MESSAGE,
            "code": BUSY_CODE,
        }
        response = HttpResponse(
            json.dumps(body), status=503, content_type="application/problem+json"
        )
    else:
        # Rendered without a request context: the context processors would query the database.
        response = HttpResponse(render_to_string("503.html", {"message": BUSY_MESSAGE}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseConnectionMiddleware:
    """Takes the request's database connection before anything else needs it.

    Under ASGI every sync step of one request runs on the same thread, so the connection
    taken here is the one the session, the user and the view use; Django gives it back to
    the pool when the response is finished. Taking it first means a dry pool is met in one
    known place, where it becomes a clear 503, instead of deep inside a view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        connection = connections["default"]
        if connection.vendor == "postgresql":
            try:
                connection.ensure_connection()
            except OperationalError as exc:
                if is_pool_exhausted(exc):
                    return busy_response(request)
                raise
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError) and is_pool_exhausted(exception):
            return busy_response(request)
        return None
