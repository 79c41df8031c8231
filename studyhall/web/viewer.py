"""Who is asking: the signed-in person behind a request."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from studyhall.accounts.viewer import viewer_of

__all__ = ["HtmxRequest", "viewer_of"]


class HtmxRequest(HttpRequest):
    """What reaches the views: HtmxMiddleware has run."""

    htmx: HtmxDetails
