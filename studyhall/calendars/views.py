"""The private feed (no sign-in: the secret URL is the key) and one session's .ics."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from studyhall.accounts.models import User
from studyhall.calendars import ics, selectors, services
from studyhall.core.errors import Forbidden, NotFound
from studyhall.tutoring.access import access_session
from studyhall.tutoring.models import Session
from studyhall.tutoring.selectors import with_details
from studyhall.web.refusals import forbidden_page

CONTENT_TYPE = "text/calendar; charset=utf-8"


def _url_for(request: HttpRequest) -> Callable[[Session], str]:
    def url(session: Session) -> str:
        return request.build_absolute_uri(reverse("tutoring:detail", kwargs={"pk": session.pk}))

    return url


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    owner = selectors.feed_owner(token)
    if owner is None:
        raise Http404("There is no such calendar feed.")
    now = timezone.now()
    body = ics.calendar_bytes(
        selectors.feed_sessions(owner, now=now),
        owner,
        session_url=_url_for(request),
        name="Studyhall sessions",
        now=now,
    )
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = 'inline; filename="studyhall.ics"'
    # The URL is a secret: keep it out of shared caches and referrers.
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_GET
def session_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """Add to calendar: the same people who may open the session page may download it."""
    viewer = request.user
    assert isinstance(viewer, User)
    try:
        session = access_session(viewer, pk, queryset=with_details(Session.objects.all()))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return forbidden_page(request, exc.message)
    body = ics.calendar_bytes(
        [session],
        viewer,
        session_url=_url_for(request),
        name=f"{session.course.code} session",
        now=timezone.now(),
    )
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    filename = f"studyhall-session-{session.pk}.ics"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def regenerate(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    assert isinstance(viewer, User)
    services.regenerate_feed(actor=viewer)
    messages.success(
        request,
        "Your calendar feed has a new address. The old one no longer works: update it in "
        "your calendar app.",
    )
    return redirect(reverse("settings:page") + "#calendar")
