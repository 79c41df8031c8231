"""A session's history: who did what, when and why."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from studyhall.support.history import session_history as history_of
from studyhall.web.refusals import refusals_as_pages
from studyhall.web.viewer import HtmxRequest, viewer_of


@login_required
@require_GET
@refusals_as_pages
def session_history(request: HtmxRequest, pk: int) -> HttpResponse:
    history = history_of(viewer_of(request), pk)
    return render(
        request,
        "support/history.html",
        {"session": history.session, "lines": history.lines},
    )
