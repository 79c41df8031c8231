"""The Settings page: a person's time zone and which notifications also come by email. Higher
apps add their own sections (the calendar feed) through the settings panel slot."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studyhall.accounts import services as account_services
from studyhall.accounts.forms import TimeZoneForm
from studyhall.accounts.models import User
from studyhall.core.errors import DomainError
from studyhall.notifications.forms import EmailPreferencesForm
from studyhall.notifications.selectors import email_choices
from studyhall.notifications.services import set_email_preferences
from studyhall.orgs.selectors import organizations_of
from studyhall.web.viewer import viewer_of


@login_required
@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    return _render(request, viewer_of(request))


def _render(
    request: HttpRequest,
    viewer: User,
    *,
    zone_form: TimeZoneForm | None = None,
    status: int = 200,
) -> HttpResponse:
    org_zones = sorted(
        {(org.time_zone, org.name) for org in organizations_of(viewer)}, key=lambda z: z[1]
    )
    return render(
        request,
        "notifications/settings.html",
        {
            "zone_form": zone_form
            or TimeZoneForm(initial={"time_zone": viewer.time_zone}, current=viewer.time_zone),
            "email_form": EmailPreferencesForm(initial=email_choices(viewer)),
            # The organization's zone, offered while the person's own differs from it.
            "org_zones": [(zone, name) for zone, name in org_zones if zone != viewer.time_zone],
        },
        status=status,
    )


@login_required
@require_POST
def time_zone(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    form = TimeZoneForm(request.POST, current=viewer.time_zone)
    if not form.is_valid():
        return _render(request, viewer, zone_form=form, status=400)
    try:
        account_services.set_time_zone(actor=viewer, time_zone=form.cleaned_data["time_zone"])
    except DomainError as exc:
        form.add_error("time_zone", exc.message)
        return _render(request, viewer, zone_form=form, status=exc.http_status)
    messages.success(request, f"Your time zone is now {viewer.time_zone}.")
    return redirect(reverse("settings:page") + "#time-zone")


@login_required
@require_POST
def email_preferences(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    form = EmailPreferencesForm(request.POST)
    form.is_valid()  # checkboxes: anything unreadable counts as unticked
    set_email_preferences(actor=viewer, by_email=form.choices())
    messages.success(request, "Your email choices are saved.")
    return redirect(reverse("settings:page") + "#email")
