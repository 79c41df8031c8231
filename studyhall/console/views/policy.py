"""The organization's policy settings: validated, audited, applying to what happens next."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect

from studyhall.console import forms
from studyhall.console.pages import SHOWN, console_page, render_console
from studyhall.console.services.policy import change_policy
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import Organization
from studyhall.orgs.services.policy import POLICY_FIELDS
from studyhall.web.viewer import HtmxRequest, viewer_of

HISTORY_ROWS = 10


def initial(organization: Organization) -> dict[str, object]:
    values: dict[str, object] = {f: getattr(organization, f) for f in POLICY_FIELDS}
    for setting, field in forms.MONEY_SETTINGS.items():
        cents = getattr(organization, setting)
        values[field] = "" if cents is None else f"{cents / 100:.2f}"
    values["signup_email_domains"] = " ".join(organization.signup_email_domains)
    return values


@console_page
def policy(request: HtmxRequest, organization: Organization) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = forms.PolicyForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    changed = change_policy(
                        organization_id=organization.pk,
                        actor=viewer_of(request),
                        changes=form.changes(),
                    )
            except SHOWN as exc:
                form.refuse(exc)
            else:
                if changed:
                    messages.success(
                        request,
                        f"Saved {len(changed)} change{'s' if len(changed) != 1 else ''}. "
                        "They apply from now on; past completions keep their rate and rules.",
                    )
                else:
                    messages.info(request, "Nothing changed.")
                return redirect("console:policy", org_id=organization.pk)
        status = 400
    else:
        form = forms.PolicyForm(initial=initial(organization))
    history = (
        AuditEntry.objects.filter(organization=organization, action="policy.changed")
        .select_related("actor")
        .order_by("-created_at", "-pk")[:HISTORY_ROWS]
    )
    return render_console(
        request,
        organization,
        "console/policy.html",
        {"form": form, "history": list(history)},
        status=status,
    )
