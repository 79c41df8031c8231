"""Studyhall's allauth account adapter: failed sign-ins answer 429 with Retry-After; sign-up
asks `signup_refusal` whether the address may sign up."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.http import HttpRequest

from studyhall.accounts import throttle


# allauth ships no type hints, so its base class is Any to mypy.
class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    def signup_refusal(self, email: str) -> str | None:
        """Why this address may not sign up itself, or None. The identity app decides who may
        (`studyhall.identity.adapter`); on its own, accounts refuses nobody."""
        return None

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            # allauth rolls this usage back when the password turns out right.
            self._login_failed_rl_usage = throttle.count_attempt(
                request, login=str(credentials.get("email", ""))
            )
        except throttle.TooManyAttempts as exc:
            raise ImmediateHttpResponse(throttle.too_many_attempts_page(request, exc)) from exc
