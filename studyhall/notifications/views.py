"""The notification list: newest first, unread marked, open one or mark them all read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from studyhall.core.errors import NotFound
from studyhall.notifications import selectors, services
from studyhall.web.viewer import viewer_of

PER_PAGE = 30


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    unread_only = request.GET.get("show") == "unread"
    page = Paginator(selectors.notifications_of(viewer, unread_only=unread_only), PER_PAGE)
    return render(
        request,
        "notifications/list.html",
        {"page": page.get_page(request.GET.get("page")), "unread_only": unread_only},
    )


@login_required
@require_POST
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark it read and go where it points (the session), or back to the list."""
    try:
        notification = services.mark_read(actor=viewer_of(request), notification_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    target = notification.link
    if request.POST.get("stay") or not target:
        return redirect(_back(request))
    return redirect(target)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_read(actor=viewer_of(request))
    if count:
        messages.success(
            request, f"Marked {count} notification{'' if count == 1 else 's'} as read."
        )
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    """Where to go after marking: the page the form was on (a path on this site), else the
    list. Anything else — another site, or text that is not a path — goes to the list."""
    back = request.POST.get("next", "")
    if (
        back.startswith("/")
        and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
        and back.isprintable()
    ):
        return back
    return reverse("notifications:list")
