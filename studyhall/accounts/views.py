"""Account settings: time zone, which notifications also come by email, the calendar feed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studyhall.accounts import services
from studyhall.accounts.forms import EmailPreferencesForm, TimeZoneForm
from studyhall.accounts.models import User
from studyhall.accounts.viewer import viewer_of
from studyhall.calendars.services import feed_of
from studyhall.core.errors import DomainError
from studyhall.notifications.selectors import email_choices
from studyhall.notifications.services import set_email_preferences
from studyhall.orgs.selectors import organizations_of


@login_required
@require_GET
def account_settings(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    return _render(request, viewer)


def _render(
    request: HttpRequest,
    viewer: User,
    *,
    zone_form: TimeZoneForm | None = None,
    status: int = 200,
) -> HttpResponse:
    feed = feed_of(viewer)
    org_zones = sorted(
        {(org.time_zone, org.name) for org in organizations_of(viewer)}, key=lambda z: z[1]
    )
    return render(
        request,
        "accounts/settings.html",
        {
            "zone_form": zone_form
            or TimeZoneForm(initial={"time_zone": viewer.time_zone}, current=viewer.time_zone),
            "email_form": EmailPreferencesForm(initial=email_choices(viewer)),
            "feed_url": request.build_absolute_uri(
                reverse("calendars:feed", kwargs={"token": feed.token})
            ),
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
        services.set_time_zone(actor=viewer, time_zone=form.cleaned_data["time_zone"])
    except DomainError as exc:
        form.add_error("time_zone", exc.message)
        return _render(request, viewer, zone_form=form, status=exc.http_status)
    messages.success(request, f"Your time zone is now {viewer.time_zone}.")
    return redirect(reverse("accounts:settings") + "#time-zone")


@login_required
@require_POST
def email_preferences(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    form = EmailPreferencesForm(request.POST)
    form.is_valid()  # checkboxes: anything unreadable counts as unticked
    set_email_preferences(actor=viewer, by_email=form.choices())
    messages.success(request, "Your email choices are saved.")
    return redirect(reverse("accounts:settings") + "#email")
