"""Who is asking: the signed-in person behind a request.

It lives beside `User` so that the account pages, which sit below the web layer, can use it;
every other app takes it from `studyhall.web.viewer`."""

from __future__ import annotations

from django.http import HttpRequest

from studyhall.accounts.models import User


def viewer_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user
