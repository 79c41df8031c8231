"""Who is calling: a bearer token (scripts, apps) or the browser's signed-in session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from studyhall.accounts import tokens
from studyhall.accounts.models import TokenScope, User
from studyhall.api.errors import NotAuthenticated
from studyhall.core.errors import Forbidden

ADMIN_API_PREFIX = "/api/v1/admin/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User:
        try:
            row = tokens.token_for(token.strip())
        except tokens.TokenRefused as exc:
            # Credentials were sent and are wrong: say so rather than falling back to the
            # browser session, which would hide the broken token.
            raise NotAuthenticated(exc.message, code=exc.code) from exc
        if row.scope == TokenScope.READ_ONLY and request.method not in SAFE_METHODS:
            raise Forbidden(
                f"The API token {row.name!r} is read-only; it cannot {request.method}.",
                code="token_read_only",
            )
        if row.scope == TokenScope.ADMIN and not request.path.startswith(ADMIN_API_PREFIX):
            raise Forbidden(
                f"The API token {row.name!r} may only call the admin API ({ADMIN_API_PREFIX}).",
                code="token_scope",
            )
        return row.user


class BrowserSession(SessionAuth):
    """The signed-in browser session. Cookies ride along on cross-site requests, so unsafe
    methods must carry the CSRF token (the `X-CSRFToken` header or `csrfmiddlewaretoken`)."""

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            # Not signed in: let the request end as 401, not as a CSRF refusal.
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise Forbidden(
                "The CSRF check failed: send the `X-CSRFToken` header with the value of the "
                "csrftoken cookie, or use a bearer token.",
                code="csrf_failed",
            )
        return user


def actor_of(request: HttpRequest) -> User:
    """The authenticated user (ninja stores what the auth class returned on `request.auth`)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise NotAuthenticated("Sign in first.")
    return user


API_AUTH = [BearerToken(), BrowserSession()]
