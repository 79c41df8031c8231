"""API tokens: issued once in the clear, stored only as a digest, expiring by default, listed
and revocable in account settings."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone

from studyhall.accounts import throttle
from studyhall.accounts.models import ApiToken, TokenScope, User
from studyhall.core import audit
from studyhall.core.errors import DomainError, InvalidInput, NotFound
from studyhall.core.queries import KeyedRead

TOKEN_PREFIX = "sh_"
# Writing last_used_at on every request would make every API read a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)
DEFAULT_LIFETIME_DAYS = 30
MAX_LIFETIME_DAYS = 365
LIFETIME_CHOICES = (7, 30, 90, 365)


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    title = "Sign-in failed"
    http_status = 401


class TokenRefused(DomainError):
    """The bearer token cannot be used: unknown, revoked or expired."""

    title = "Authentication required"
    http_status = 401


@dataclass(frozen=True)
class IssuedToken:
    token: str
    row: ApiToken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        return "API token"
    if len(name) > 100 or not name.isprintable():
        raise InvalidInput(
            "Name the token in at most 100 printable characters.", code="invalid_name", field="name"
        )
    return name


def _lifetime(days: int) -> timedelta:
    if not 1 <= days <= MAX_LIFETIME_DAYS:
        raise InvalidInput(
            f"A token lasts from 1 to {MAX_LIFETIME_DAYS} days; {days} is outside that.",
            code="invalid_expiry",
            field="expires_in_days",
        )
    return timedelta(days=days)


def create_token(
    *,
    actor: User,
    name: str = "",
    scope: str = TokenScope.FULL,
    expires_in_days: int = DEFAULT_LIFETIME_DAYS,
) -> IssuedToken:
    """A new token for the actor themself; the clear token is returned once and never kept."""
    if scope not in TokenScope.values:
        raise InvalidInput(
            "Choose what the token may do: full, read_only or admin.",
            code="invalid_scope",
            field="scope",
        )
    if scope == TokenScope.ADMIN and not actor.memberships.filter(role="admin").exists():
        raise InvalidInput(
            "Only an organization's admins can make an admin API token.",
            code="invalid_scope",
            field="scope",
        )
    clean_name = _clean_name(name)
    expires_at = timezone.now() + _lifetime(expires_in_days)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=actor, name=clean_name, digest=_digest(token), scope=scope, expires_at=expires_at
    )
    audit.record(
        actor=actor,
        action="api_token.created",
        token_id=row.pk,
        name=clean_name,
        scope=scope,
        expires_at=expires_at.isoformat(),
    )
    return IssuedToken(token=token, row=row)


def issue_token(
    *,
    request: HttpRequest | None,
    email: str,
    password: str,
    name: str = "",
    scope: str = TokenScope.FULL,
    expires_in_days: int = DEFAULT_LIFETIME_DAYS,
) -> str:
    """Exchange an email and password for a token. With a request (the API endpoint) the
    attempt counts against the sign-in limit of the account and of the caller's address."""
    if not email.isprintable() or not password.isprintable() or len(email) > 254:
        raise InvalidCredentials("That email and password do not match an account.")
    email = email.strip().lower()
    usage = throttle.count_attempt(request, login=email) if request is not None else None
    user = authenticate(request, email=email, password=password)
    if not isinstance(user, User) or not user.is_active:
        raise InvalidCredentials("That email and password do not match an account.")
    if usage is not None:
        usage.rollback()
    return create_token(actor=user, name=name, scope=scope, expires_in_days=expires_in_days).token


def revoke_token(*, actor: User, token_id: int) -> ApiToken:
    """The token stops working at once. Revoking a revoked token changes nothing."""
    row = ApiToken.objects.filter(pk=token_id, user=actor).first()
    if row is None:
        raise NotFound("You have no such API token.", code="token_not_found")
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="api_token.revoked", token_id=row.pk, name=row.name)
    return row


# Every API request reads its token: compiled once.
_BY_DIGEST = KeyedRead(
    lambda digest: ApiToken.objects.select_related("user").filter(digest=digest),
    placeholder="digest-placeholder",
)


def token_for(token: str) -> ApiToken:
    """The live token row for a bearer token, or TokenRefused saying why it is not."""
    row = None
    if token.startswith(TOKEN_PREFIX) and len(token) <= 128:
        row = _BY_DIGEST.one(_digest(token))
    if row is None or not row.user.is_active:
        raise TokenRefused(
            "That API token is not valid (unknown, or its user is inactive); "
            "request a new one at POST /api/v1/auth/token.",
            code="invalid_token",
        )
    now = timezone.now()
    if row.revoked_at is not None:
        raise TokenRefused(
            f"That API token ({row.name}) was revoked; make a new one in account settings or "
            "at POST /api/v1/auth/token.",
            code="token_revoked",
        )
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenRefused(
            f"That API token ({row.name}) expired on {row.expires_at:%Y-%m-%d %H:%M} UTC; "
            "make a new one in account settings or at POST /api/v1/auth/token.",
            code="token_expired",
        )
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row
