"""Domain errors: a stable machine code, a message a person understands, an HTTP status.

Services raise these; views show `message`, the API turns them into problem+json with `code`.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    title = "The request could not be carried out"
    http_status = 422

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra


class InvalidInput(DomainError):
    """The caller sent something malformed; fixing the input fixes the request."""

    code = "invalid_input"
    title = "Invalid input"
    http_status = 400


class RuleViolation(DomainError):
    """Well-formed input that a product rule refuses (too short, too late, not accepted...)."""

    title = "Not allowed by the session rules"
    http_status = 422


class Conflict(DomainError):
    """The target's current state forbids the request (already completed, canceled...)."""

    code = "conflict"
    title = "Conflicts with the current state"
    http_status = 409


class NotFound(DomainError):
    code = "not_found"
    title = "Not found"
    http_status = 404


class Forbidden(DomainError):
    code = "forbidden"
    title = "Not allowed"
    http_status = 403
