"""Who is asking: the signed-in person behind a request."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from studyhall.accounts.models import User


class HtmxRequest(HttpRequest):
    """What reaches the views: HtmxMiddleware has run."""

    htmx: HtmxDetails


def viewer_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user
