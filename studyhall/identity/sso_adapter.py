"""allauth's social-account hooks, for campus sign-in: who a provider's answer is, and a clear
page when it cannot sign the person in."""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studyhall.core.errors import DomainError
from studyhall.identity import sso
from studyhall.identity.models import SingleSignOn

# python3-saml's reasons for refusing a response, and what they mean to the person.
SAML_PROBLEMS = (
    (
        "audience",
        "The sign-in answer was meant for another service, not this Studyhall. Your "
        "college's identity provider may list Studyhall under an old address.",
    ),
    (
        "signature",
        "The sign-in answer's signature did not match your college's identity provider, so "
        "Studyhall could not trust it.",
    ),
    (
        "expired",
        "The sign-in answer had expired. Start again from the sign-in page; if it keeps "
        "happening, the identity provider's clock may be wrong.",
    ),
    (
        "timestamp",
        "The sign-in answer was outside its validity period. Start again from the sign-in "
        "page; if it keeps happening, the identity provider's clock may be wrong.",
    ),
)
UNKNOWN_PROBLEM = "Your college's sign-in did not complete, so Studyhall did not sign you in."


def refusal_page(
    request: HttpRequest, message: str, *, status: int = 403, details: str = ""
) -> HttpResponse:
    return render(
        request,
        "identity/sso_refused.html",
        {"message": message, "details": details},
        status=status,
    )


def problem_of(reason: str) -> str:
    lowered = reason.lower()
    for word, message in SAML_PROBLEMS:
        if word in lowered:
            return message
    return UNKNOWN_PROBLEM


# allauth ships no type hints, so its base class is Any to mypy.
class SocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]
    def _sso_of(self, sociallogin: SocialLogin) -> SingleSignOn | None:
        return (
            SingleSignOn.objects.select_related("app", "organization")
            .filter(app__provider_id=sociallogin.account.provider)
            .first()
        )

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        config = self._sso_of(sociallogin)
        if config is None:
            raise ImmediateHttpResponse(
                refusal_page(request, "This sign-in is not set up for any organization.")
            )
        try:
            with transaction.atomic(durable=True):
                identity = sso.identity_from(config, sociallogin.account)
                if sociallogin.is_existing:
                    sso.check_domain(config, identity.email)
                    sso.check_member(sso=config, user=sociallogin.user)
                else:
                    user, _ = sso.link_or_provision(sso=config, identity=identity)
                    sociallogin.connect(request, user)
        except DomainError as exc:
            raise ImmediateHttpResponse(
                refusal_page(request, exc.message, status=exc.http_status)
            ) from exc

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        context = extra_context if extra_context is not None else {}
        reason = str(context.get("saml_last_error_reason") or exception or "")
        raise ImmediateHttpResponse(
            refusal_page(
                request,
                problem_of(reason) if reason else UNKNOWN_PROBLEM,
                status=400,
                details=reason,
            )
        )

    def send_notification_mail(self, *args: Any, **kwargs: Any) -> None:
        # Linking the campus identity is recorded in the audit log; the person just did it.
        return None

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # pre_social_login links or adds the person, or refuses; none is left to sign up.
        return False
