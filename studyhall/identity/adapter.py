"""The allauth adapter Studyhall runs with: the accounts one, with closed sign-up."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from studyhall.accounts.adapter import AccountAdapter as BaseAdapter
from studyhall.identity import signup


class AccountAdapter(BaseAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return signup.is_open()

    def signup_refusal(self, email: str) -> str | None:
        return signup.refusal_for(email)

    def get_reauthentication_methods(self, user: Any) -> list[dict[str, Any]]:
        # Ask for the second factor first when the person has one; the password is the
        # fallback allauth offers beside it.
        methods: list[dict[str, Any]] = super().get_reauthentication_methods(user)
        return sorted(methods, key=lambda m: 0 if m["id"].startswith("mfa_") else 1)
