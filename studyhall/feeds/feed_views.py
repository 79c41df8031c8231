"""The console's Nightly feed page: its settings, testing the SFTP connection, running
tonight's feed now, and the recent nights."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from studyhall.accounts.models import User
from studyhall.console.pages import SHOWN, console_page, paginate, render_console
from studyhall.feeds import setup
from studyhall.feeds.forms import FeedForm
from studyhall.feeds.models import FeedConfig, FeedRun
from studyhall.orgs.models import Organization
from studyhall.web.actions import act_and_redirect
from studyhall.web.viewer import HtmxRequest, viewer_of

RUNS_PER_PAGE = 10
# The page's first group of settings; the rest are the SFTP server's.
WHEN_FIELDS = (
    "enabled",
    "run_at_hour",
    "export_directory",
    "roster_directory",
    "deactivate_missing",
)


def recent_runs(organization: Organization) -> QuerySet[FeedRun]:
    return FeedRun.objects.filter(organization=organization).order_by("-night", "-id")


def _initial(organization: Organization, config: FeedConfig | None) -> dict[str, Any]:
    if config is None:
        return {"enabled": True, "run_at_hour": 2, "sftp_port": 22, "sftp_directory": "."}
    return {
        "enabled": config.enabled,
        "run_at_hour": config.run_at_hour,
        "export_directory": setup.shown_folder(organization, config.export_directory),
        "roster_directory": setup.shown_folder(organization, config.roster_directory),
        "deactivate_missing": config.deactivate_missing,
        "sftp_host": config.sftp_host,
        "sftp_port": config.sftp_port,
        "sftp_username": config.sftp_username,
        "sftp_host_key": config.sftp_host_key,
        "sftp_directory": config.sftp_directory,
        "sftp_roster_path": config.sftp_roster_path,
    }


def _values(form: FeedForm) -> setup.FeedSettings:
    data = form.cleaned_data
    return setup.FeedSettings(
        enabled=data["enabled"],
        run_at_hour=data["run_at_hour"],
        export_directory=data["export_directory"],
        roster_directory=data["roster_directory"],
        sftp_host=data["sftp_host"],
        sftp_port=data["sftp_port"],
        sftp_username=data["sftp_username"],
        sftp_password=form.secret("sftp_password", "forget_password"),
        sftp_private_key=form.secret("sftp_private_key", "forget_private_key"),
        sftp_host_key=data["sftp_host_key"],
        sftp_directory=data["sftp_directory"],
        sftp_roster_path=data["sftp_roster_path"],
        deactivate_missing=data["deactivate_missing"],
    )


@console_page
def feed_page(request: HtmxRequest, organization: Organization) -> HttpResponse:
    config = setup.config_of(organization)
    folder = f"{organization.slug}/"
    has_password = bool(config and config.sftp_password)
    has_private_key = bool(config and config.sftp_private_key)
    status = 200
    if request.method == "POST":
        form = FeedForm(
            request.POST,
            folder=folder,
            has_password=has_password,
            has_private_key=has_private_key,
        )
        if form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    setup.save_feed_settings(
                        actor=viewer_of(request),
                        organization_id=organization.pk,
                        values=_values(form),
                    )
            except SHOWN as exc:
                field = exc.extra.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(request, "The nightly feed's settings are saved.")
                return redirect("feeds:feed", org_id=organization.pk)
        status = 400
    else:
        form = FeedForm(
            initial=_initial(organization, config),
            folder=folder,
            has_password=has_password,
            has_private_key=has_private_key,
        )
    return render_console(
        request,
        organization,
        "feeds/feed.html",
        {
            "form": form,
            "config": config,
            "when_fields": WHEN_FIELDS,
            "page": paginate(request, recent_runs(organization), RUNS_PER_PAGE),
        },
        status=status,
    )


def _back(organization: Organization) -> str:
    return reverse("feeds:feed", kwargs={"org_id": organization.pk})


@require_POST
@console_page
def test_connection(request: HtmxRequest, organization: Organization) -> HttpResponse:
    # No transaction: nothing is written, and a slow server must hold no connection open.
    try:
        result = setup.check_connection(actor=viewer_of(request), organization_id=organization.pk)
    except SHOWN as exc:
        messages.error(request, exc.message)
    else:
        (messages.success if result.ok else messages.error)(request, result.message)
    return redirect(_back(organization))


@require_POST
@console_page
def run_now(request: HtmxRequest, organization: Organization) -> HttpResponse:
    def action(actor: User) -> str:
        with transaction.atomic(durable=True):
            night = setup.request_run(actor=actor, organization_id=organization.pk)
        return (
            f"The feed for {night:%b} {night.day}, {night.year} is queued; it does only the "
            "steps not yet done tonight. Reload this page to see it."
        )

    return act_and_redirect(request, action, to=_back(organization))
