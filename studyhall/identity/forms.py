"""The sign-in form: the email first. An address of an organization with campus sign-in goes
to that organization's identity provider; everyone else gives their password."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.utils import get_next_redirect_url
from allauth.socialaccount.providers.base.constants import AuthProcess
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studyhall.accounts.models import User
from studyhall.identity import sso
from studyhall.identity.models import SingleSignOn

PASSWORD_MISSING = "Enter your password."


# allauth ships no type hints, so its base class is Any to mypy.
class LoginForm(AllauthLoginForm):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        password = self.fields.get("password")
        if password is not None:
            password.required = False
            password.help_text = (
                "Leave it empty if your college signs you in with its own sign-in page."
            )

    def clean(self) -> dict[str, Any]:
        if self._errors:
            return dict(self.cleaned_data)
        email = str(self.cleaned_data.get("login") or "")
        password = self.cleaned_data.get("password")
        route = sso.route_for(email)
        if route is not None and not password:
            # `login` (which allauth calls next) sends the person to the provider.
            self.campus_sign_in = route
            return dict(self.cleaned_data)
        if not password:
            self.add_error("password", PASSWORD_MISSING)
            return dict(self.cleaned_data)
        user = User.objects.filter(email__iexact=email).first()
        refused = sso.password_refused(user) if user is not None else None
        if refused is not None:
            self.add_error(None, sso.password_refused_message(refused))
            return dict(self.cleaned_data)
        cleaned: dict[str, Any] = super().clean()
        return cleaned

    def login(self, request: HttpRequest, redirect_url: str | None = None) -> HttpResponse:
        route: SingleSignOn | None = getattr(self, "campus_sign_in", None)
        if route is None:
            response: HttpResponse = super().login(request, redirect_url=redirect_url)
            return response
        provider = route.app.get_provider(request)
        redirect = provider.redirect(
            request, AuthProcess.LOGIN, next_url=get_next_redirect_url(request)
        )
        # A page that moves on by itself rather than a redirect: the sign-in form may only
        # submit to Studyhall (the Content-Security-Policy's form-action), and a redirect
        # from its submission to the provider would count as submitting there.
        return render(
            request,
            "identity/to_campus_sign_in.html",
            {"url": redirect["Location"], "organization": route.organization},
        )
