"""Second factors (allauth.mfa). Support agents and org admins, who move money and read every
recap, must have one: signing in without one, every page sends them to the enrolment page
(sign-out and the account pages excepted) until they enrol. For everyone else it is optional.

Money and people actions ask for the second factor again once the person has not proved it
for `STUDYHALL_SECOND_FACTOR_IDLE_SECONDS`, through allauth's reauthentication page; the
action they submitted goes through once they have.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

# allauth keeps, per session, when each factor was last proved, and can set a request aside
# while it asks for one; both live in its internal flows, which this module is the one user of.
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.internal.flows.reauthentication import suspend_request
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from studyhall.accounts.models import User
from studyhall.orgs.models import Membership, Role

# Pages open to someone who still has to enrol: allauth's own (sign-out, the enrolment pages,
# password), and static files.
OPEN_PREFIXES = ("/accounts/", "/static/")
# The types that count as a second factor (recovery codes back one of these up).
FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
ENROL_MESSAGE = (
    "Your role can move money and read every recap, so your account needs a second factor. "
    "Set up an authenticator app to continue."
)
# Changes to money and to people: submitting any of these re-asks for the second factor after
# the idle time. Read-only pages never do.
SENSITIVE_VIEWS = frozenset(
    {
        "console:person_roles",
        "console:person_rate",
        "console:person_employee_id",
        "console:person_deactivate",
        "console:person_reactivate",
        "console:policy",
        "console:roster_apply",
        "support:late_log_approve",
        "support:correction_new",
        "support:correction_approve",
        "ledger:admin_run",
        "ledger:admin_batch_paid",
        "ledger:admin_payout_fail",
        "ledger:stripe_connect",
        "identity:erase_person",
        "identity_console:privacy",
        "identity_console:single_sign_on",
    }
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Set at sign-in for someone whose role needs a second factor they do not have yet, so that
# other pages cost no query to check it.
MUST_ENROL_KEY = "identity.must_enrol_second_factor"


def must_have_second_factor(user: User) -> bool:
    return user.is_support_agent or (
        Membership.objects.filter(user=user, role=Role.ADMIN, is_active=True).exists()
    )


def has_second_factor(user: User) -> bool:
    return bool(is_mfa_enabled(user, types=FACTORS))


@receiver(user_logged_in, dispatch_uid="identity.second_factor_at_sign_in")
def check_at_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session") or not isinstance(user, User):
        return
    if must_have_second_factor(user) and not has_second_factor(user):
        request.session[MUST_ENROL_KEY] = True
    else:
        request.session.pop(MUST_ENROL_KEY, None)


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            isinstance(user, User)
            and request.session.get(MUST_ENROL_KEY)
            and not request.path.startswith(OPEN_PREFIXES)
        ):
            if has_second_factor(user):
                del request.session[MUST_ENROL_KEY]
            elif request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "type": "https://studyhall.dev/problems/second_factor_required",
                        "title": "Not allowed",
                        "status": 403,
                        "detail": ENROL_MESSAGE,
                        "code": "second_factor_required",
                    },
                    status=403,
                    content_type="application/problem+json",
                )
            else:
                messages.warning(request, ENROL_MESSAGE)
                return redirect("mfa_activate_totp")
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., HttpResponse],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        match = request.resolver_match
        user = getattr(request, "user", None)
        if (
            match is None
            or match.view_name not in SENSITIVE_VIEWS
            or request.method in SAFE_METHODS
            or not isinstance(user, User)
        ):
            return None
        records = get_authentication_records(request, user)
        if not records:
            # The session did not come through the sign-in page, which records every factor
            # proved (a session from before this check, or a test's force_login); it meets
            # the check at its next sign-in.
            return None
        proved = [record["at"] for record in records if record.get("method") == "mfa"]
        if proved and time.time() - max(proved) < settings.STUDYHALL_SECOND_FACTOR_IDLE_SECONDS:
            return None
        if not has_second_factor(user):
            return None
        response: HttpResponse = suspend_request(request, reverse("mfa_reauthenticate"))
        return response
