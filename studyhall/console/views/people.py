"""People: members with roles and status, invitations, roles, deactivation, rates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from studyhall.console import forms, selectors
from studyhall.console.pages import (
    SHOWN,
    choice_param,
    console_page,
    page_query,
    paginate,
    render_console,
)
from studyhall.console.services import people as console_people
from studyhall.core.money import format_cents
from studyhall.orgs.models import MemberStatus, Organization, Role
from studyhall.orgs.services import people as service
from studyhall.web.viewer import HtmxRequest, viewer_of

HISTORY_ROWS = 20


def _filters(request: HtmxRequest) -> selectors.PeopleFilters:
    return selectors.PeopleFilters(
        role=choice_param(request, "role", list(Role.values)),
        status=choice_param(request, "status", list(MemberStatus.values)),
        q=request.GET.get("q", "").strip()[:100],
    )


def _list(
    request: HtmxRequest, organization: Organization, form: forms.InviteForm, status: int = 200
) -> HttpResponse:
    filters = _filters(request)
    return render_console(
        request,
        organization,
        "console/people.html",
        {
            "page": paginate(request, selectors.people(organization, filters)),
            "query": page_query(request),
            "filters": filters,
            "roles": Role.choices,
            "statuses": MemberStatus.choices,
            "form": form,
        },
        status=status,
    )


@console_page
def people(request: HtmxRequest, organization: Organization) -> HttpResponse:
    if request.method != "POST":
        return _list(request, organization, forms.InviteForm())
    form = forms.InviteForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                member = console_people.invite_person(
                    organization_id=organization.pk,
                    actor=viewer_of(request),
                    email=form.cleaned_data["email"],
                    roles=form.cleaned_data["roles"],
                    name=form.cleaned_data["name"],
                    school_id=form.cleaned_data["school_id"],
                )
        except SHOWN as exc:
            forms.refuse(form, exc)
        else:
            messages.success(
                request, f"{member.user.email} is invited; we are emailing them a sign-in link."
            )
            return redirect("console:person", org_id=organization.pk, user_id=member.user_id)
    return _list(request, organization, form, status=400)


def _person_page(
    request: HtmxRequest,
    organization: Organization,
    user_id: int,
    *,
    status: int = 200,
    **form_overrides: Any,
) -> HttpResponse:
    member = selectors.member(organization, user_id)
    if member is None:
        raise Http404("There is no such person in this organization.")
    summary = selectors.person_summary(organization, member.user)
    rate = summary.hourly_rate_cents
    context: dict[str, Any] = {
        "member": member,
        "person": member.user,
        "summary": summary,
        "effective_rate": format_cents(
            rate if rate is not None else organization.default_hourly_rate_cents,
            organization.currency,
        ),
        "bounds": (
            format_cents(organization.min_hourly_rate_cents, organization.currency),
            format_cents(organization.max_hourly_rate_cents, organization.currency),
        ),
        "sessions": paginate(request, selectors.sessions_of_person(organization, member.user), 10),
        "history": list(selectors.audit_of_person(organization, member.user)[:HISTORY_ROWS]),
        "roles_form": forms.RolesForm(initial={"roles": summary.roles}),
        "rate_form": forms.RateForm(
            initial={"hourly_rate": f"{rate / 100:.2f}" if rate is not None else ""}
        ),
        "employee_form": forms.EmployeeIdForm(initial={"employee_id": summary.employee_id}),
        "is_tutor": Role.TUTOR in summary.roles,
        "earnings": (
            selectors.tutor_earnings(organization, member.user)
            if Role.TUTOR in summary.roles or summary.tutored
            else None
        ),
        "is_self": member.user_id == viewer_of(request).pk,
    }
    context.update(form_overrides)
    return render_console(request, organization, "console/person.html", context, status=status)


@console_page
def person(request: HtmxRequest, organization: Organization, user_id: int) -> HttpResponse:
    return _person_page(request, organization, user_id)


def _act(
    request: HtmxRequest,
    organization: Organization,
    user_id: int,
    action: Callable[[], object],
    done: str,
) -> HttpResponse:
    try:
        with transaction.atomic(durable=True):
            action()
    except SHOWN as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("console:person", org_id=organization.pk, user_id=user_id)


@require_POST
@console_page
def deactivate(request: HtmxRequest, organization: Organization, user_id: int) -> HttpResponse:
    return _act(
        request,
        organization,
        user_id,
        lambda: service.deactivate_person(
            organization_id=organization.pk, user_id=user_id, actor=viewer_of(request)
        ),
        "Deactivated: they can no longer sign in here or be booked. Their history stays.",
    )


@require_POST
@console_page
def reactivate(request: HtmxRequest, organization: Organization, user_id: int) -> HttpResponse:
    return _act(
        request,
        organization,
        user_id,
        lambda: service.reactivate_person(
            organization_id=organization.pk, user_id=user_id, actor=viewer_of(request)
        ),
        "Reactivated.",
    )


@require_POST
@console_page
def roles(request: HtmxRequest, organization: Organization, user_id: int) -> HttpResponse:
    form = forms.RolesForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                service.set_roles(
                    organization_id=organization.pk,
                    user_id=user_id,
                    actor=viewer_of(request),
                    roles=form.cleaned_data["roles"],
                )
        except SHOWN as exc:
            forms.refuse(form, exc)
        else:
            messages.success(request, "Roles saved.")
            return redirect("console:person", org_id=organization.pk, user_id=user_id)
    return _person_page(request, organization, user_id, status=400, roles_form=form)


@require_POST
@console_page
def rate(request: HtmxRequest, organization: Organization, user_id: int) -> HttpResponse:
    form = forms.RateForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                cents = service.set_tutor_rate(
                    organization_id=organization.pk,
                    tutor_id=user_id,
                    actor=viewer_of(request),
                    hourly_rate_cents=form.cleaned_data["hourly_rate"],
                )
        except SHOWN as exc:
            forms.refuse(form, exc)
        else:
            messages.success(
                request,
                f"Hourly rate saved: {format_cents(cents, organization.currency)}. "
                "It applies to sessions completed from now on.",
            )
            return redirect("console:person", org_id=organization.pk, user_id=user_id)
    return _person_page(request, organization, user_id, status=400, rate_form=form)


@require_POST
@console_page
def employee_id(request: HtmxRequest, organization: Organization, user_id: int) -> HttpResponse:
    form = forms.EmployeeIdForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                service.set_employee_id(
                    organization_id=organization.pk,
                    tutor_id=user_id,
                    actor=viewer_of(request),
                    employee_id=form.cleaned_data["employee_id"],
                )
        except SHOWN as exc:
            forms.refuse(form, exc)
        else:
            messages.success(request, "Employee id saved.")
            return redirect("console:person", org_id=organization.pk, user_id=user_id)
    return _person_page(request, organization, user_id, status=400, employee_form=form)


@require_POST
@console_page
def resend_invitation(
    request: HtmxRequest, organization: Organization, user_id: int
) -> HttpResponse:
    return _act(
        request,
        organization,
        user_id,
        lambda: console_people.resend_invitation(
            organization_id=organization.pk, user_id=user_id, actor=viewer_of(request)
        ),
        "The invitation is on its way again, with a fresh link.",
    )
