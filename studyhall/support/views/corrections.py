"""Corrections with a second agent's approval: propose from a completed session, then another
agent approves (money moves) or either rejects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studyhall.core.errors import DomainError, Forbidden, NotFound
from studyhall.core.money import format_cents
from studyhall.support import selectors
from studyhall.support.access import require_agent
from studyhall.support.forms import CorrectionForm, RejectForm
from studyhall.support.services import corrections
from studyhall.support.views.decisions import decide
from studyhall.tutoring import selectors as tutoring_selectors
from studyhall.tutoring.access import access_session
from studyhall.web.form_errors import put_refusal_on_form
from studyhall.web.params import int_param
from studyhall.web.refusals import refusals_as_pages
from studyhall.web.viewer import HtmxRequest, viewer_of

FIELD_OF_ERROR = {
    "invalid_duration": ("minutes", "Check this."),
    "no_change": ("minutes", "Check this."),
    "invalid_correction_kind": ("kind", "Check this."),
    "reason_required": ("reason", "Check this."),
}


@login_required
@require_http_methods(["GET", "POST"])
@refusals_as_pages
def correction_new(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    require_agent(viewer, action="propose corrections")
    session = tutoring_selectors.session_detail(access_session(viewer, pk).pk)
    # A dispute's "Adjust" arrives with the correction it suggests filled in.
    suggested = {"kind": request.GET.get("kind"), "minutes": int_param(request.GET.get("minutes"))}
    form = CorrectionForm(
        request.POST or None, initial={k: v for k, v in suggested.items() if v is not None}
    )
    error, status = "", 200
    if request.method == "POST":
        if not form.is_valid() and "kind" in form.errors:
            error, status = "Choose a correction: void it, or change the logged time.", 400
        elif not form.is_valid():
            error, status = "Some answers could not be read.", 400
        else:
            try:
                proposal = corrections.propose_correction(
                    actor=viewer,
                    session_id=session.pk,
                    kind=form.cleaned_data["kind"],
                    minutes=form.cleaned_data["minutes"],
                    reason=form.cleaned_data["reason"],
                )
            except (NotFound, Forbidden):
                raise
            except DomainError as exc:
                error, status = exc.message, exc.http_status
                put_refusal_on_form(form, exc, by_code=FIELD_OF_ERROR)
            else:
                messages.success(
                    request,
                    "Correction proposed. Nothing moves until another support agent approves it.",
                )
                return redirect("support:correction_detail", pk=proposal.pk)
    return render(
        request,
        "support/correction_form.html",
        {
            "session": session,
            "form": form,
            "error": error,
            "completion": getattr(session, "completion", None),
            "history": selectors.corrections_of(session),
        },
        status=status,
    )


@login_required
@require_GET
@refusals_as_pages
def correction_detail(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    proposal = selectors.correction_for_agent(viewer, pk)
    return render(
        request,
        "support/correction_detail.html",
        {
            "proposal": proposal,
            "session": proposal.session,
            "is_proposer": proposal.proposed_by_id == viewer.pk,
            "reject_form": RejectForm(),
        },
    )


@login_required
@require_POST
@refusals_as_pages
def correction_approve(request: HtmxRequest, pk: int) -> HttpResponse:
    def done(decision: corrections.ProposalDecision) -> str:
        proposal = decision.proposal
        moved = proposal.difference_cents or 0
        amount = format_cents(abs(moved), proposal.session.organization.currency)
        direction = "returned to the organization" if moved < 0 else "paid to the tutor"
        return f"Correction applied: {amount} {direction}."

    return decide(
        request,
        lambda viewer: corrections.approve_correction(actor=viewer, proposal_id=pk),
        done=done,
        repeat="This correction was already approved and applied.",
        to=reverse("support:correction_detail", kwargs={"pk": pk}),
    )


@login_required
@require_POST
@refusals_as_pages
def correction_reject(request: HtmxRequest, pk: int) -> HttpResponse:
    note = request.POST.get("note", "")
    return decide(
        request,
        lambda viewer: corrections.reject_correction(actor=viewer, proposal_id=pk, note=note),
        done=lambda _: "Correction rejected; nothing was moved.",
        repeat="This correction was already rejected.",
        to=reverse("support:correction_detail", kwargs={"pk": pk}),
    )
