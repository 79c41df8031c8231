"""Every API error as RFC 9457 problem+json: `type`, `title`, `status`, `detail`, `code`.

Services raise `DomainError`s with a stable code and a human message; this module is the one
place that turns them — and ninja's own validation, parsing and auth failures — into responses.
Nothing a client sends should ever produce a 500 or a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from studyhall.core.database import is_pool_exhausted
from studyhall.core.errors import DomainError
from studyhall.core.middleware import busy_response
from studyhall.web.problems import problem as web_problem

logger = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 20
# Pydantic's wording for these names internal classes; a client only needs to know the shape.
FRIENDLIER_MESSAGES = {
    "model_type": "Input should be a JSON object",
    "model_attributes_type": "Input should be a JSON object",
    "dict_type": "Input should be a JSON object",
}

CODES_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "throttled",
}


class MalformedJson(DomainError):
    code = "malformed_json"
    title = "Malformed JSON"
    http_status = 400


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    title = "Request body too large"
    http_status = 413


class BodyNotAnObject(DomainError):
    code = "validation_error"
    title = "Invalid input"
    http_status = 422


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    title = "Authentication required"
    http_status = 401


def problem(
    *, status: int, code: str, detail: str, title: str | None = None, **extra: Any
) -> HttpResponse:
    response = web_problem(status=status, code=code, detail=detail, title=title, **extra)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="studyhall"'
    if status == 429 and isinstance(extra.get("retry_after"), int):
        response["Retry-After"] = str(extra["retry_after"])
    return response


def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem(
        status=exc.http_status, code=exc.code, title=exc.title, detail=exc.message, **exc.extra
    )


def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "field": _field_name(e.get("loc", ())),
            "message": FRIENDLIER_MESSAGES.get(e.get("type", ""), str(e.get("msg", "is invalid"))),
        }
        for e in exc.errors[:MAX_REPORTED_ERRORS]
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "The input is invalid."
    return problem(
        status=422, code="validation_error", title="Invalid input", detail=detail, errors=errors
    )


def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    # ninja wraps whatever the body parser raised in HttpError(400); unwrap our own errors.
    if isinstance(cause, DomainError):
        return domain_error(request, cause)
    if exc.status_code == 400 and cause is not None:
        return domain_error(request, MalformedJson("The request body could not be read as JSON."))
    if isinstance(exc, AuthenticationError):
        return domain_error(
            request,
            NotAuthenticated(
                "Sign in first: send `Authorization: Bearer <token>` (POST /api/v1/auth/token "
                "issues one) or use a browser session."
            ),
        )
    status = exc.status_code
    return problem(status=status, code=CODES_BY_STATUS.get(status, "http_error"), detail=str(exc))


def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(status=404, code="not_found", detail="There is no such resource.")


def permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Django's own refusal (allauth raises it when a request carries no client address).
    detail = str(exc) or "You may not do this."
    return problem(status=403, code="forbidden", detail=f"{detail.rstrip('.')}.")


def too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return domain_error(request, PayloadTooLarge("The request body is too large; send less."))


def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    if is_pool_exhausted(exc):
        # Load, not a bug: every database connection of this worker stayed busy.
        return busy_response(request)
    # A bug, not bad input: log it in full, but never show a traceback to the client.
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return problem(
        status=500,
        code="internal_error",
        detail="Something went wrong on our side; it has been logged. Try again later.",
    )


def register(api: NinjaAPI) -> None:
    handlers: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
        (DomainError, domain_error),
        (ValidationError, validation_error),
        (HttpError, http_error),
        (Http404, not_found),
        (PermissionDenied, permission_denied),
        (RequestDataTooBig, too_big),
        (Exception, unexpected),
    ]
    for exc_class, handler in handlers:
        api.exception_handler(exc_class)(handler)


def _field_name(loc: Iterable[object]) -> str:
    """('body', 'payload', 'recap', 'next_steps') → 'recap.next_steps'; ('query', 'limit') →
    'limit'. The body parameter's own name means nothing to a client, so it is dropped."""
    parts = [str(p) for p in loc]
    if not parts:
        return "body"
    source, rest = parts[0], parts[1:]
    if source == "body":
        rest = rest[1:]
        return ".".join(rest) or "body"
    return ".".join(rest) or source
