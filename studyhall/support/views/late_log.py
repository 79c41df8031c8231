"""Asking Support to log a session after its grace period, and an agent's decision."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studyhall.core.errors import Conflict, DomainError, Forbidden, NotFound
from studyhall.core.money import format_cents
from studyhall.support import selectors
from studyhall.support.forms import DeclineForm, LateLogForm
from studyhall.support.models import LateLogRequest, RequestStatus
from studyhall.support.services import late_logging
from studyhall.support.views.decisions import decide
from studyhall.tutoring import selectors as tutoring_selectors
from studyhall.tutoring.access import access_session
from studyhall.tutoring.forms import recap_count_text
from studyhall.tutoring.handoff import CARRIED_OVER
from studyhall.tutoring.models import Session, Status
from studyhall.tutoring.rules import recap_length
from studyhall.web.form_errors import put_refusal_on_form
from studyhall.web.refusals import refusals_as_pages
from studyhall.web.viewer import HtmxRequest, viewer_of

# Refusals that point at one field of the form, and what to say next to it.
FIELD_OF_ERROR = {
    "invalid_duration": ("minutes", "Choose one of the listed times."),
    "reason_required": ("reason", "Say why the session was not logged in time."),
}


@login_required
@require_http_methods(["GET", "POST"])
@refusals_as_pages
def late_log_new(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    session = access_session(viewer, pk)
    if session.tutor_id != viewer.pk:
        raise Forbidden("Only the session's tutor can ask Support to log it.")
    latest = selectors.latest_late_log_request(session)
    if latest is not None and latest.status == RequestStatus.PENDING:
        messages.info(request, "You already asked Support to log this session.")
        return redirect("support:late_log_detail", pk=latest.pk)
    if session.status == Status.COMPLETED:
        messages.info(request, "This session is already completed.")
        return redirect("tutoring:detail", pk=session.pk)
    if request.method == "POST":
        return _submit(request, session)
    # A refused completion links here with what the tutor had typed (time and recap).
    carried = {key: request.GET[key] for key in CARRIED_OVER if request.GET.get(key)}
    return _render(request, session, LateLogForm(initial=carried), previous=latest)


def _submit(request: HtmxRequest, session: Session) -> HttpResponse:
    viewer = viewer_of(request)
    form = LateLogForm(request.POST)
    if not form.is_valid():
        # Only Django's own checks (such as a NUL character) can fail here.
        return _render(request, session, form, error="Some answers could not be read.", status=400)
    try:
        created = late_logging.request_late_log(
            actor=viewer,
            session_id=session.pk,
            minutes=form.cleaned_data["minutes"],
            recap=form.recap(),
            reason=form.cleaned_data["reason"],
        )
    except (NotFound, Forbidden):
        raise
    except Conflict as exc:
        if exc.code != "late_log_request_open":
            return _refused(request, session, form, exc)
        messages.info(request, exc.message)
        pending = selectors.latest_late_log_request(session)
        if pending is None:
            return redirect("tutoring:detail", pk=session.pk)
        return redirect("support:late_log_detail", pk=pending.pk)
    except DomainError as exc:
        return _refused(request, session, form, exc)
    messages.success(
        request,
        "Support has your request. You will get an email when an agent has logged the session "
        "or needs something from you.",
    )
    return redirect("support:late_log_detail", pk=created.pk)


def _refused(
    request: HtmxRequest, session: Session, form: LateLogForm, exc: DomainError
) -> HttpResponse:
    put_refusal_on_form(form, exc, by_code=FIELD_OF_ERROR)
    return _render(request, session, form, error=exc.message, status=exc.http_status)


def _render(
    request: HtmxRequest,
    session: Session,
    form: LateLogForm,
    *,
    previous: LateLogRequest | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    minimum = session.organization.min_recap_chars
    counted = recap_length(form.answers())
    return render(
        request,
        "support/late_log_form.html",
        {
            "session": session,
            "form": form,
            "error": error,
            "previous": previous,
            "grace": selectors.grace_state(session, now=timezone.now()),
            "min_chars": minimum,
            "count_text": recap_count_text(counted, minimum),
            "count_met": counted >= minimum,
        },
        status=status,
    )


@login_required
@require_GET
@refusals_as_pages
def late_log_detail(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    found = selectors.late_log_request_for(viewer, pk)
    session = tutoring_selectors.session_detail(found.session_id)
    blocker = None
    if viewer.is_support_agent and found.status == RequestStatus.PENDING:
        # What would stop the approval now, in the completion service's own words.
        blocker = tutoring_selectors.completion_blocker(session, viewer)
    return render(
        request,
        "support/late_log_detail.html",
        {
            "late_request": found,
            "session": session,
            "participants": list(session.participants.all()),
            "is_agent": viewer.is_support_agent,
            "blocker": blocker,
            "grace": selectors.grace_state(session, now=timezone.now()),
            "decline_form": DeclineForm(),
        },
    )


@login_required
@require_POST
@refusals_as_pages
def late_log_approve(request: HtmxRequest, pk: int) -> HttpResponse:
    def done(decision: late_logging.Decision) -> str:
        found = decision.request
        earning = found.completion.earning if found.completion else None
        paid = format_cents(earning.amount_cents, earning.currency) if earning else ""
        return (
            f"Session logged for {found.requested_by.display_name}: {paid} deposited to "
            "their Studyhall account. They have been told."
        )

    return decide(
        request,
        lambda viewer: late_logging.approve_late_log(actor=viewer, request_id=pk),
        done=done,
        repeat="This request was already approved; nothing more to do.",
        to=reverse("support:late_log_detail", kwargs={"pk": pk}),
    )


@login_required
@require_POST
@refusals_as_pages
def late_log_decline(request: HtmxRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return decide(
        request,
        lambda viewer: late_logging.decline_late_log(actor=viewer, request_id=pk, reason=reason),
        done=lambda _: "Request declined; the tutor has been told why.",
        repeat="This request was already declined.",
        to=reverse("support:late_log_detail", kwargs={"pk": pk}),
    )
