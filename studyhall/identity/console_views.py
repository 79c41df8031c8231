"""The console's Privacy page (how long the organization keeps chats, notifications and
classroom presence) and its Single sign-on page (the organization's identity provider)."""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from studyhall.console.pages import SHOWN, console_page, render_console
from studyhall.identity import retention, sso
from studyhall.identity.models import MIN_PRESENCE_DAYS, Protocol
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


def _lines(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text) if part]


class SingleSignOnForm(forms.Form):
    protocol = forms.ChoiceField(
        label="Protocol", choices=Protocol.choices, widget=forms.RadioSelect
    )
    email_domains = forms.CharField(
        label="Email domains",
        help_text="The domains your provider signs in, separated by spaces: harbor.edu "
        "students.harbor.edu. Sign-in sends these addresses to your provider.",
    )
    metadata_url = forms.URLField(
        label="SAML: the provider's metadata URL",
        required=False,
        assume_scheme="https",
        help_text="Studyhall reads it now and again every few hours (certificate changes).",
    )
    metadata_xml = forms.CharField(
        label="SAML: or paste the provider's metadata XML",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    oidc_issuer = forms.CharField(
        label="OpenID Connect: issuer", required=False, help_text="Like https://login.example.edu."
    )
    oidc_client_id = forms.CharField(label="OpenID Connect: client ID", required=False)
    oidc_secret = forms.CharField(
        label="OpenID Connect: client secret",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave it empty to keep the saved secret.",
    )
    uid_attribute = forms.CharField(
        label="Stable identifier attribute",
        help_text=f"Never the email alone. SAML: eduPersonPrincipalName ({sso.SAML_EPPN}) or "
        f"pairwise-id ({sso.SAML_PAIRWISE_ID}); OpenID Connect: sub.",
    )
    email_attribute = forms.CharField(
        label="Email attribute", help_text=f"SAML: {sso.SAML_MAIL}; OpenID Connect: email."
    )
    name_attribute = forms.CharField(
        label="Name attribute",
        required=False,
        help_text=f"SAML: {sso.SAML_DISPLAY_NAME}; OpenID Connect: name.",
    )
    school_id_attribute = forms.CharField(
        label="School student ID attribute",
        required=False,
        help_text="Links a first sign-in to the person your roster imported with that ID.",
    )
    required = forms.BooleanField(
        label="Require campus sign-in for everyone (passwords stop working)", required=False
    )
    break_glass_emails = forms.CharField(
        label="Break-glass admins",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Emails of org admins who keep their password (and second factor) for when "
        "the provider is down, one per line.",
    )


@console_page
def single_sign_on(request: HtmxRequest, organization: Organization) -> HttpResponse:
    existing = sso.sso_of_organization(organization.pk)
    status = 200
    if request.method == "POST":
        form = SingleSignOnForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saml_idp = None
                if data["protocol"] == Protocol.SAML:
                    if data["metadata_url"] or data["metadata_xml"].strip():
                        # Fetched here, before any row is locked.
                        saml_idp = sso.saml_idp_from_metadata(
                            url=data["metadata_url"], xml=data["metadata_xml"].strip()
                        )
                    elif existing is not None:
                        saml_idp = sso.saml_idp_of(existing)
                with transaction.atomic(durable=True):
                    sso.configure(
                        actor=viewer_of(request),
                        organization_id=organization.pk,
                        protocol=data["protocol"],
                        email_domains=_lines(data["email_domains"]),
                        uid_attribute=data["uid_attribute"],
                        email_attribute=data["email_attribute"],
                        name_attribute=data["name_attribute"],
                        school_id_attribute=data["school_id_attribute"],
                        required=data["required"],
                        break_glass_emails=_lines(data["break_glass_emails"]),
                        saml_idp=saml_idp,
                        oidc_issuer=data["oidc_issuer"],
                        oidc_client_id=data["oidc_client_id"],
                        oidc_secret=data["oidc_secret"],
                    )
            except SHOWN as exc:
                field = exc.extra.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(request, "Saved. Sign-in uses the new settings now.")
                return redirect("identity_console:single_sign_on", org_id=organization.pk)
        status = 400
    else:
        form = SingleSignOnForm(initial=sso.form_initial(existing))
    saml_slug = organization.slug
    service = {
        "saml_metadata": request.build_absolute_uri(
            reverse("saml_metadata", kwargs={"organization_slug": saml_slug})
        ),
        "saml_acs": request.build_absolute_uri(
            reverse("saml_acs", kwargs={"organization_slug": saml_slug})
        ),
        "oidc_redirect": request.build_absolute_uri(
            reverse(
                "openid_connect_callback",
                kwargs={"provider_id": sso.provider_id_of(organization, Protocol.OIDC)},
            )
        ),
    }
    return render_console(
        request,
        organization,
        "identity/single_sign_on.html",
        {"form": form, "existing": existing, "service": service},
        status=status,
    )
