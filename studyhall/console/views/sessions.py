"""Every session of the organization, filtered; each opens to its own page. An admin books
a session for a tutor, and cancels one with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect

from studyhall.console import forms, selectors
from studyhall.console.pages import (
    SHOWN,
    choice_param,
    console_page,
    date_param,
    int_param,
    page_query,
    paginate,
    render_console,
)
from studyhall.orgs.models import Organization
from studyhall.tutoring import lifecycle
from studyhall.tutoring.models import Mode, Session, Status
from studyhall.tutoring.services import scheduling
from studyhall.tutoring.text import names, when
from studyhall.web.form_errors import put_refusal_on_form
from studyhall.web.viewer import HtmxRequest, viewer_of


@console_page
def sessions(request: HtmxRequest, organization: Organization) -> HttpResponse:
    filters = selectors.SessionFilters(
        status=choice_param(request, "status", list(Status.values)),
        course_id=int_param(request, "course"),
        tutor_id=int_param(request, "tutor"),
        student_id=int_param(request, "student"),
        mode=choice_param(request, "mode", list(Mode.values)),
        since=date_param(request, "since"),
        until=date_param(request, "until"),
        flagged=request.GET.get("flagged") == "1",
        q=request.GET.get("q", "").strip()[:100],
    )
    page = paginate(request, selectors.sessions(organization, filters))
    for session in page.object_list:
        session.console_flagged = selectors.is_flagged(session)
        session.console_cancellable = session.status in lifecycle.PENDING
    template = (
        "console/_session_rows.html"
        if request.htmx.target == "session-results"
        else ("console/sessions.html")
    )
    return render_console(
        request,
        organization,
        template,
        {
            "page": page,
            "query": page_query(request),
            "filters": filters,
            "statuses": Status.choices,
            "modes": Mode.choices,
            "courses": list(organization.courses.order_by("code")),
            "tutors": list(selectors.tutors_of(organization)),
        },
    )


# The booking refusals the form marks on a field (the rest name their field themselves, or
# are about the session as a whole).
BOOKING_FIELDS = {
    "unknown_tutor": "tutor",
    "tutor_not_approved": "tutor",
    "unknown_course": "course",
    "tutor_is_student": "students",
    "unknown_student": "students",
    "no_participants": "students",
    "group_too_large": "students",
    "not_enrolled": "students",
    "invalid_duration": "minutes",
    "invalid_start": "date",
    "start_too_far_in_past": "date",
    "start_too_far_ahead": "date",
    "location_required": "location",
    "invalid_mode": "mode",
}


def _book_form(request: HtmxRequest, organization: Organization) -> forms.BookForm:
    return forms.BookForm(
        request.POST if request.method == "POST" else None,
        zone=organization.zone,
        max_minutes=organization.max_session_minutes,
        tutors=list(selectors.tutors_of(organization).filter(memberships__is_active=True)),
        courses=list(organization.courses.filter(archived_at__isnull=True).order_by("code")),
    )


def _book(request: HtmxRequest, organization: Organization, form: forms.BookForm) -> Session | None:
    """Book what the form says, or put the refusal on the field it is about."""
    named = form.cleaned_data["students"]
    found = selectors.students_named(organization, named)
    unknown = [n for n in named if n not in found]
    if unknown:
        form.add_error(
            "students",
            f"No student of {organization.name} has the email or school ID {unknown[0]!r}.",
        )
        return None
    try:
        with transaction.atomic(durable=True):
            return scheduling.book_for_tutor(
                actor=viewer_of(request),
                organization_id=organization.pk,
                tutor_id=form.cleaned_data["tutor"],
                course_id=form.cleaned_data["course"],
                student_ids=list(dict.fromkeys(u.pk for u in found.values())),
                mode=form.cleaned_data["mode"],
                location=form.cleaned_data["location"],
                scheduled_start=form.cleaned_data["start"],
                planned_minutes=form.cleaned_data["minutes"],
                notes=form.cleaned_data["notes"],
            )
    except SHOWN as exc:
        hints = {code: (field, exc.message) for code, field in BOOKING_FIELDS.items()}
        if not put_refusal_on_form(form, exc, by_code=hints):
            forms.refuse(form, exc)
        return None


@console_page
def new_session(request: HtmxRequest, organization: Organization) -> HttpResponse:
    form = _book_form(request, organization)
    if request.method == "POST" and form.is_valid():
        session = _book(request, organization, form)
        if session is not None:
            students = names([p.user for p in session.participants.select_related("user")])
            messages.success(
                request,
                f"Booked for {session.tutor.display_name}: {session.course.code} "
                f"{when(session.scheduled_start, organization.zone)}. {students} will be asked "
                "to accept it; the tutor completes it afterwards.",
            )
            return redirect("tutoring:detail", pk=session.pk)
    return render_console(
        request,
        organization,
        "console/session_new.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@console_page
def cancel(request: HtmxRequest, organization: Organization, session_id: int) -> HttpResponse:
    session = selectors.session_of(organization, session_id)
    if session is None:
        raise Http404("There is no such session in this organization.")
    form = forms.CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                scheduling.cancel_session(
                    session_id=session.pk,
                    actor=viewer_of(request),
                    reason=form.cleaned_data["reason"],
                )
        except SHOWN as exc:
            form.add_error("reason", exc.message)
        else:
            messages.success(
                request, "The session is canceled; its tutor and students have been told why."
            )
            return redirect("console:sessions", org_id=organization.pk)
    return render_console(
        request,
        organization,
        "console/session_cancel.html",
        {
            "session": session,
            "form": form,
            "cancellable": session.status in lifecycle.PENDING,
            "students": list(session.participants.all()),
        },
        status=400 if request.method == "POST" else 200,
    )
