"""Failed sign-ins, counted per account and per address, on the sign-in page and the token
endpoint alike, through allauth's rate limiter (`ACCOUNT_RATE_LIMITS["login_failed"]`).

An attempt is counted before the password is checked and handed back when it succeeds, so once
the limit is reached even the right password is turned away until the window passes: a guesser
learns nothing from the answer.
"""

from __future__ import annotations

import math

from allauth.account import app_settings as account_settings
from allauth.core.internal import ratelimit
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studyhall.core.errors import DomainError

ACTION = "login_failed"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    title = "Too many attempts"
    http_status = 429

    def __init__(self, retry_after: int) -> None:
        minutes = math.ceil(retry_after / 60)
        super().__init__(
            "Too many failed sign-in attempts for this account or from this address. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            retry_after=retry_after,
        )
        self.retry_after = retry_after


def account_key(request: HttpRequest, login: str) -> str:
    # The key allauth's own adapter uses, so every path counts into one bucket per account.
    return f"{get_current_site(request).domain}:{login.strip().lower()}"


def retry_after_seconds() -> int:
    """The longest window of the limit: by then every counted attempt has expired."""
    rates = ratelimit.get_rates(
        app="allauth.account", action=ACTION, config=account_settings.RATE_LIMITS
    )
    return max((math.ceil(rate.duration) for rate in rates), default=60)


def count_attempt(request: HttpRequest, *, login: str) -> ratelimit.RateLimitUsage:
    """Count one sign-in attempt, or raise TooManyAttempts when the limit is reached. Roll the
    returned usage back when the attempt succeeds."""
    usage = ratelimit.consume(
        request, app="allauth.account", action=ACTION, key=account_key(request, login)
    )
    if usage is None:
        raise TooManyAttempts(retry_after_seconds())
    return usage


def too_many_attempts_page(request: HttpRequest, exc: TooManyAttempts) -> HttpResponse:
    response = render(
        request, "account/too_many_attempts.html", {"message": exc.message}, status=429
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


# allauth's other limits (every sign-in, sign-up and reset request per address) count per
# minute; its 429 page comes here through `config.urls.handler429`.
OTHER_LIMITS_RETRY_AFTER = 60


def too_many_requests_page(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "account/too_many_attempts.html",
        {"message": "Too many requests from this address. Try again in a minute."},
        status=429,
    )
    response["Retry-After"] = str(OTHER_LIMITS_RETRY_AFTER)
    return response
