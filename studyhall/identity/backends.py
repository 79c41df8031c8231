"""Django's model backend, refusing passwords where the organization requires its campus
sign-in: the sign-in page and the API's token endpoint both authenticate through Django, so
both refuse alike."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from studyhall.accounts.models import User
from studyhall.identity import sso


class CampusSignInOnlyBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **credentials: Any,
    ) -> User | None:
        email = credentials.get("email") or username or ""
        if password and email:
            user = User.objects.filter(email__iexact=str(email)).first()
            if user is not None and sso.password_refused(user) is not None:
                # Stops Django trying the other backends.
                raise PermissionDenied
        found = super().authenticate(request, username=username, password=password, **credentials)
        return found if isinstance(found, User) else None
