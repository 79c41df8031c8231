"""The console's Webhooks page: endpoints (add, rotate the secret, pause), and the recent
deliveries with their attempts (redeliver one)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from studyhall.console.pages import console_page, paginate, render_console
from studyhall.core.errors import InvalidInput
from studyhall.feeds import webhooks
from studyhall.feeds.forms import EndpointForm
from studyhall.feeds.models import WebhookEndpoint, WebhookMessage
from studyhall.orgs.models import Organization
from studyhall.web.actions import act_and_redirect
from studyhall.web.viewer import HtmxRequest, viewer_of

DELIVERIES_PER_PAGE = 25


def deliveries(organization: Organization) -> QuerySet[WebhookMessage]:
    return (
        WebhookMessage.objects.filter(endpoint__organization=organization)
        .select_related("endpoint")
        .order_by("-created_at", "-id")
    )


@console_page
def webhooks_page(request: HtmxRequest, organization: Organization) -> HttpResponse:
    status = 200
    form = EndpointForm()
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    endpoint = webhooks.create_endpoint(
                        actor=viewer_of(request),
                        organization=organization,
                        url=form.cleaned_data["url"],
                        event_types=form.cleaned_data["event_types"],
                        description=form.cleaned_data["description"],
                    )
            except InvalidInput as exc:
                field = exc.extra.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(
                    request, f"Added {endpoint.url}. Its signing secret is shown below."
                )
                return redirect("feeds:webhooks", org_id=organization.pk)
        status = 400
    endpoints = list(WebhookEndpoint.objects.filter(organization=organization).order_by("id"))
    page = paginate(request, deliveries(organization), DELIVERIES_PER_PAGE)
    return render_console(
        request,
        organization,
        "feeds/webhooks.html",
        {"form": form, "endpoints": endpoints, "page": page},
        status=status,
    )


def _back(organization: Organization) -> str:
    return reverse("feeds:webhooks", kwargs={"org_id": organization.pk})


@require_POST
@console_page
def rotate(request: HtmxRequest, organization: Organization, endpoint_id: int) -> HttpResponse:
    def action(actor: object) -> str:
        with transaction.atomic(durable=True):
            endpoint = webhooks.rotate_secret(
                actor=viewer_of(request), organization=organization, endpoint_id=endpoint_id
            )
        return f"New secret for {endpoint.url}. The old one keeps signing beside it for 24 hours."

    return act_and_redirect(request, action, to=_back(organization))


@require_POST
@console_page
def toggle(request: HtmxRequest, organization: Organization, endpoint_id: int) -> HttpResponse:
    active = request.POST.get("active") == "1"

    def action(actor: object) -> str:
        with transaction.atomic(durable=True):
            endpoint = webhooks.set_endpoint_active(
                actor=viewer_of(request),
                organization=organization,
                endpoint_id=endpoint_id,
                active=active,
            )
        return f"{endpoint.url} is {'sending again' if active else 'paused'}."

    return act_and_redirect(request, action, to=_back(organization))


@require_POST
@console_page
def redeliver(request: HtmxRequest, organization: Organization, message_id: int) -> HttpResponse:
    def action(actor: object) -> str:
        with transaction.atomic(durable=True):
            message = webhooks.redeliver(
                actor=viewer_of(request), organization=organization, message_id=message_id
            )
        return f"{message.event_type} {message.message_id} will be sent again now."

    return act_and_redirect(request, action, to=_back(organization))
