"""allauth's URLs under /accounts/, with its SAML views imported on their first request.

`allauth.urls` imports every installed provider's views when the URLconf loads; SAML's bring
python3-saml, lxml and xmlsec (about 13 MB in each web worker) into processes that, in most
organizations, never see a SAML sign-in. These are the same patterns, in the same order, with
the same names; only SAML's five views are resolved lazily. `test_allauth_urls` compares the
two lists, so an allauth upgrade that adds or renames a URL fails there first.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from allauth import app_settings
from allauth.socialaccount import providers
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.utils.module_loading import import_string
from django.views.generic.base import RedirectView

SAML = "saml"
OIDC = "openid_connect"


def lazy_view(dotted: str, **flags: bool) -> Callable[..., HttpResponse]:
    """A view that imports `dotted` when it is first asked for. `flags` are the attributes
    the middleware reads before the view runs (`csrf_exempt`, `login_required`), which
    the real view carries and the wrapper must say for it."""

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The first call imports the module; later ones find it in sys.modules.
        real: Callable[..., HttpResponse] = import_string(dotted)
        return real(request, *args, **kwargs)

    view.__name__ = dotted.rsplit(".", 1)[1]
    view.__qualname__ = view.__name__
    view.__module__ = dotted.rsplit(".", 1)[0]
    for flag, value in flags.items():
        setattr(view, flag, value)
    view.lazy_target = dotted  # type: ignore[attr-defined]
    return view


def _saml_patterns() -> list[URLPattern | URLResolver]:
    views = "allauth.socialaccount.providers.saml.views"
    # As allauth marks them: the identity provider posts to acs/ and sls/ without a CSRF
    # token, and no SAML view needs a signed-in user.
    posted = {"csrf_exempt": True, "login_required": False}
    plain = {"login_required": False}
    return [
        re_path(
            r"^saml/(?P<organization_slug>[^/]+)/",
            include(
                [
                    path("acs/", lazy_view(f"{views}.acs", **posted), name="saml_acs"),
                    path(
                        "acs/finish/",
                        lazy_view(f"{views}.finish_acs", **plain),
                        name="saml_finish_acs",
                    ),
                    path("sls/", lazy_view(f"{views}.sls", **posted), name="saml_sls"),
                    path(
                        "metadata/", lazy_view(f"{views}.metadata", **plain), name="saml_metadata"
                    ),
                    path("login/", lazy_view(f"{views}.login", **plain), name="saml_login"),
                ]
            ),
        )
    ]


def _provider_patterns() -> list[URLPattern | URLResolver]:
    # As allauth orders them: OpenID Connect last, since its URLs match others' when its
    # prefix is blank.
    classes = providers.registry.get_class_list()
    classes = [c for c in classes if c.id != OIDC] + [c for c in classes if c.id == OIDC]
    found: list[URLPattern | URLResolver] = []
    for cls in classes:
        if cls.id == SAML:
            found += _saml_patterns()
            continue
        found += getattr(import_module(f"{cls.get_package()}.urls"), "urlpatterns", None) or []
    return found


def _legacy_redirect(old: str, name: str) -> URLPattern:
    return path(old, RedirectView.as_view(pattern_name=name, permanent=True))


urlpatterns: list[URLPattern | URLResolver] = []
if not app_settings.HEADLESS_ONLY:
    urlpatterns += [path("", include("allauth.account.urls"))]
    if app_settings.MFA_ENABLED:
        urlpatterns += [path("2fa/", include("allauth.mfa.urls"))]
if app_settings.SOCIALACCOUNT_ENABLED and not app_settings.HEADLESS_ONLY:
    urlpatterns += [
        path("3rdparty/", include("allauth.socialaccount.urls")),
        # allauth still answers its old addresses with a redirect.
        _legacy_redirect("social/login/cancelled/", "socialaccount_login_cancelled"),
        _legacy_redirect("social/login/error/", "socialaccount_login_error"),
        _legacy_redirect("social/signup/", "socialaccount_signup"),
        _legacy_redirect("social/connections/", "socialaccount_connections"),
    ]
if app_settings.SOCIALACCOUNT_ENABLED:
    urlpatterns += _provider_patterns()
if app_settings.USERSESSIONS_ENABLED and not app_settings.HEADLESS_ONLY:
    urlpatterns += [path("sessions/", include("allauth.usersessions.urls"))]
