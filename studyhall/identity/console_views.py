"""The console's Privacy page: how long the organization keeps chats, notifications and
classroom presence."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect

from studyhall.console.pages import SHOWN, console_page, render_console
from studyhall.identity import retention
from studyhall.identity.models import MIN_PRESENCE_DAYS
from studyhall.orgs.models import Organization
from studyhall.web.viewer import HtmxRequest, viewer_of


class RetentionForm(forms.Form):
    chat_days = forms.IntegerField(
        label="Keep closed support chats for (days)", min_value=1, max_value=retention.MAX_DAYS
    )
    notification_days = forms.IntegerField(
        label="Keep notifications for (days)", min_value=1, max_value=retention.MAX_DAYS
    )
    presence_days = forms.IntegerField(
        label="Keep classroom presence for (days)",
        min_value=MIN_PRESENCE_DAYS,
        max_value=retention.MAX_DAYS,
        help_text=f"At least {MIN_PRESENCE_DAYS}: it decides measured time and grace periods.",
    )


@console_page
def privacy(request: HtmxRequest, organization: Organization) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = RetentionForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    retention.set_retention(
                        organization_id=organization.pk,
                        actor=viewer_of(request),
                        **form.cleaned_data,
                    )
            except SHOWN as exc:
                field = exc.extra.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(request, "Saved. Older records are removed within the hour.")
                return redirect("identity_console:privacy", org_id=organization.pk)
        status = 400
    else:
        policy = retention.policy_of(organization)
        form = RetentionForm(
            initial={
                "chat_days": policy.chat_days,
                "notification_days": policy.notification_days,
                "presence_days": policy.presence_days,
            }
        )
    return render_console(
        request, organization, "identity/privacy.html", {"form": form}, status=status
    )
