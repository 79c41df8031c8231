"""API tokens: issued once in the clear, stored only as a digest."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone

from studyhall.accounts.models import ApiToken, User
from studyhall.core.errors import DomainError

TOKEN_PREFIX = "sh_"
# Writing last_used_at on every request would make every API read a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    title = "Sign-in failed"
    http_status = 401


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, request: HttpRequest | None, email: str, password: str) -> str:
    if not email.isprintable() or not password.isprintable() or len(email) > 254:
        raise InvalidCredentials("That email and password do not match an account.")
    user = authenticate(request, email=email.strip().lower(), password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials("That email and password do not match an account.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, digest=_digest(token))
    return token


def user_for_token(token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    row = ApiToken.objects.select_related("user").filter(digest=_digest(token)).first()
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
