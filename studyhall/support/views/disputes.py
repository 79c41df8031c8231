"""Disputes for Support: the sessions whose students disputed the log, and one dispute with
the tutor's and the students' words side by side. Upholding releases the held pay; adjusting
is a correction (proposed here, approved by a second agent), which releases it too."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studyhall.accounts.models import User
from studyhall.support.access import require_agent
from studyhall.tutoring.models import (
    Confirmation,
    ConfirmationAnswer,
    Correction,
    DisputeKind,
    EarningHold,
    HoldState,
)
from studyhall.tutoring.services.confirmations import uphold_dispute
from studyhall.web.actions import act_and_redirect
from studyhall.web.params import int_param
from studyhall.web.refusals import refusals_as_pages
from studyhall.web.viewer import HtmxRequest, viewer_of

PAGE_SIZE = 25


@login_required
@require_GET
@refusals_as_pages
def dispute_list(request: HtmxRequest) -> HttpResponse:
    require_agent(viewer_of(request), action="resolve disputes")
    holds = (
        EarningHold.objects.filter(state=HoldState.DISPUTED)
        .select_related("session__course", "session__tutor", "session__organization")
        .order_by("settled_at", "id")
    )
    page = Paginator(holds, PAGE_SIZE).get_page(int_param(request.GET.get("page")) or 1)
    return render(request, "support/disputes.html", {"page": page})


@login_required
@require_GET
@refusals_as_pages
def dispute_detail(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    require_agent(viewer, action="resolve disputes")
    hold = (
        EarningHold.objects.select_related(
            "session__course",
            "session__tutor",
            "session__organization",
            "session__completion__earning",
        )
        .filter(session_id=pk)
        .first()
    )
    if hold is None:
        raise Http404("This session has no dispute.")
    session = hold.session
    disputes = list(
        Confirmation.objects.filter(session=session, answer=ConfirmationAnswer.DISPUTED)
        .select_related("student")
        .order_by("answered_at", "id")
    )
    completion = session.completion
    current = _current_minutes(session.pk, completion.minutes)
    new_minutes = current - hold.disputed_minutes
    adjust_url = reverse("support:correction_new", kwargs={"pk": session.pk}) + (
        f"?kind=adjust_minutes&minutes={new_minutes}" if new_minutes > 0 else "?kind=void"
    )
    return render(
        request,
        "support/dispute_detail.html",
        {
            "hold": hold,
            "session": session,
            "completion": completion,
            "current_minutes": current,
            "disputes": disputes,
            "did_not_happen": DisputeKind.DID_NOT_HAPPEN,
            "adjust_url": adjust_url,
            "new_minutes": new_minutes,
        },
    )


def _current_minutes(session_id: int, logged: int) -> int:
    latest = Correction.objects.filter(session_id=session_id).order_by("-created_at", "-id").first()
    return latest.minutes_after if latest is not None else logged


@login_required
@require_POST
@refusals_as_pages
def dispute_uphold(request: HtmxRequest, pk: int) -> HttpResponse:
    note = request.POST.get("note", "")

    def run(viewer: User) -> str:
        uphold_dispute(session_id=pk, actor=viewer, note=note)
        return "Upheld: the held pay is released to the tutor and joins their next payout."

    return act_and_redirect(request, run, to=reverse("support:dispute_detail", kwargs={"pk": pk}))
