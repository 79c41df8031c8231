"""The viewer's private calendar-feed address, for the Settings page's calendar section."""

from __future__ import annotations

from django import template
from django.http import HttpRequest
from django.urls import reverse

from studyhall.calendars.services import feed_of
from studyhall.web.viewer import viewer_of

register = template.Library()


@register.simple_tag(takes_context=True)
def calendar_feed_address(context: template.Context) -> str:
    request: HttpRequest = context["request"]
    feed = feed_of(viewer_of(request))
    return request.build_absolute_uri(reverse("calendars:feed", kwargs={"token": feed.token}))
