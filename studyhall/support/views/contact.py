"""The contact form, for people who cannot sign in: the signed-out pages' bubble opens it,
and it is a page of its own without JavaScript. Limited per address and per email given."""

from __future__ import annotations

import math
from typing import Any

from allauth.core.internal import ratelimit
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from studyhall.core.errors import InvalidInput
from studyhall.support.forms import ContactForm
from studyhall.support.services import contact as contact_service
from studyhall.web.viewer import HtmxRequest

APP = "studyhall.support"
ACTION = "contact"
SENT = (
    "Thanks — your message is with Studyhall Support. We answer by email, usually within a "
    "working day."
)


def _limits() -> dict[str, str]:
    return {ACTION: settings.SUPPORT_CONTACT_RATE_LIMIT}


def retry_after_seconds() -> int:
    rates = ratelimit.get_rates(app=APP, action=ACTION, config=_limits())
    return max((math.ceil(rate.duration) for rate in rates), default=60)


def _too_many(retry_after: int) -> str:
    minutes = math.ceil(retry_after / 60)
    span = f"{minutes} minutes" if minutes < 120 else f"{math.ceil(minutes / 60)} hours"
    return (
        "You have sent several messages in a short time, from this address or for this email. "
        f"Support has them; you can write again within {span}."
    )


@require_http_methods(["GET", "POST"])
def contact(request: HtmxRequest) -> HttpResponse:
    if request.user.is_authenticated:
        # Signed in, the chat reaches Support (and keeps the conversation).
        return redirect("support:chat")
    partial = bool(request.htmx)
    context: dict[str, Any] = {"form": ContactForm(), "sent": "", "refused": ""}
    status = 200
    if request.method == "POST":
        form = ContactForm(request.POST)
        context["form"] = form
        status = _submit(request, form, context)
        if status == 200:
            if not partial:
                return _redirect_to_sent()
            context["form"] = ContactForm()
    elif request.GET.get("sent") == "1":
        context["sent"] = SENT
    template = "support/_contact_form.html" if partial else "support/contact.html"
    response = render(request, template, context, status=status)
    if status == 429:
        response["Retry-After"] = str(retry_after_seconds())
    return response


def _submit(request: HtmxRequest, form: ContactForm, context: dict[str, Any]) -> int:
    # The form only parses (every field is optional text; the service checks them), but it
    # does refuse what is not text at all (a NUL character). A field to fix is 422: the page
    # swaps the form back in with its marks.
    if not form.is_valid():
        return 422
    data = form.cleaned_data
    try:
        checked = contact_service.check_contact(
            name=data.get("name", ""), email=data.get("email", ""), message=data.get("message", "")
        )
    except InvalidInput as exc:
        for key, message in exc.extra.get("fields", {}).items():
            form.add_error(key, message)
        return 422
    usage = ratelimit.consume(
        request, app=APP, action=ACTION, config=_limits(), key=checked.email.lower()
    )
    if usage is None:
        context["refused"] = _too_many(retry_after_seconds())
        return 429
    contact_service.contact_support(name=checked.name, email=checked.email, message=checked.message)
    context["sent"] = SENT
    return 200


def _redirect_to_sent() -> HttpResponse:
    """Post/redirect/get: the page then says the message was sent."""
    response = redirect("support:contact")
    response["Location"] += "?sent=1"
    return response
