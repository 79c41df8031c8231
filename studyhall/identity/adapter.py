"""The allauth adapter Studyhall runs with: the accounts one, with closed sign-up."""

from __future__ import annotations

from django.http import HttpRequest

from studyhall.accounts.adapter import AccountAdapter as BaseAdapter
from studyhall.identity import signup


class AccountAdapter(BaseAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return signup.is_open()

    def signup_refusal(self, email: str) -> str | None:
        return signup.refusal_for(email)
