"""No-shows in the console: deciding a student's report that an in-person session's tutor
did not come, and lifting a person's booking suspension."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from studyhall.console import forms, selectors
from studyhall.console.pages import SHOWN, console_page, render_console
from studyhall.orgs.models import Organization
from studyhall.tutoring.models import AbsenceReportState
from studyhall.tutoring.services import no_shows
from studyhall.web.viewer import HtmxRequest, viewer_of


@console_page
def absence(request: HtmxRequest, organization: Organization, session_id: int) -> HttpResponse:
    session = selectors.session_of(organization, session_id)
    if session is None:
        raise Http404("There is no such session in this organization.")
    form = forms.ResolveAbsenceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                no_shows.resolve_absence(
                    session_id=session.pk,
                    actor=viewer_of(request),
                    tutor_came=form.tutor_came,
                    note=form.cleaned_data["note"],
                )
        except SHOWN as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                "Decided: the session can be logged, and the students who reported it were told."
                if form.tutor_came
                else "Decided: the session is missed as a tutor no-show; its students were told "
                "and offered to book again.",
            )
            return redirect("console:home", org_id=organization.pk)
    reports = selectors.absence_reports_of(session)
    return render_console(
        request,
        organization,
        "console/session_absence.html",
        {
            "session": session,
            "form": form,
            "reports": reports,
            "open": any(r.state == AbsenceReportState.OPEN for r in reports),
            "students": list(session.participants.all()),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@console_page
def lift_suspension(request: HtmxRequest, organization: Organization, user_id: int) -> HttpResponse:
    if selectors.member(organization, user_id) is None:
        raise Http404("There is no such person in this organization.")
    form = forms.LiftSuspensionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the suspension is lifted.")
    else:
        try:
            with transaction.atomic(durable=True):
                no_shows.lift_suspension(
                    organization_id=organization.pk,
                    user_id=user_id,
                    role=form.cleaned_data["role"],
                    actor=viewer_of(request),
                    reason=form.cleaned_data["reason"],
                )
        except SHOWN as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, "The suspension is lifted; they can book again and were told."
            )
    return redirect("console:person", org_id=organization.pk, user_id=user_id)
