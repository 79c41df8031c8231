"""Refusals as RFC 9457 problem+json, for every endpoint a script or a client calls: the API
and the pages' own JSON endpoints answer in the one shape, with the service's stable code."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

from studyhall.core.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://studyhall.dev/problems/"
# Keys a DomainError's extra data may not overwrite.
RESERVED_KEYS = frozenset({"type", "title", "status", "detail", "code", "instance"})

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
}


def problem(
    *, status: int, code: str, detail: str, title: str | None = None, **extra: Any
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if k not in RESERVED_KEYS and v is not None})
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def domain_problem(exc: DomainError, **extra: Any) -> HttpResponse:
    """The service's refusal as it is: its status, code, title, message and extra data."""
    return problem(
        status=exc.http_status,
        code=exc.code,
        title=exc.title,
        detail=exc.message,
        **{**exc.extra, **extra},
    )
