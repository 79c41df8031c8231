"""What every console page shares: the organization the admin is looking at (404 for anyone
outside it, 403 for members without the admin role), the navigation and the org switcher,
pagination, and the query parameters the lists take."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from functools import wraps
from typing import Any, Concatenate, ParamSpec, cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render

from studyhall.console import nav
from studyhall.console.selectors import admin_organizations
from studyhall.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RuleViolation,
)
from studyhall.orgs.models import Organization
from studyhall.orgs.services.access import admin_organization
from studyhall.web import params
from studyhall.web.refusals import forbidden_page
from studyhall.web.viewer import HtmxRequest, viewer_of

PER_PAGE = 25
# Refusals a page shows next to the form; NotFound and Forbidden become 404 and 403 pages.
SHOWN = (InvalidInput, RuleViolation, Conflict)
P = ParamSpec("P")
ConsoleView = Callable[Concatenate[HtmxRequest, Organization, P], HttpResponse]
View = Callable[Concatenate[HtmxRequest, int, P], HttpResponse]


def console_page(view: ConsoleView[P]) -> View[P]:
    """Resolve `org_id` to an organization the viewer administers, or refuse."""

    @login_required
    @wraps(view)
    def wrapper(
        request: HtmxRequest, org_id: int, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        try:
            organization = admin_organization(viewer_of(request), org_id)
            return view(request, organization, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except Forbidden as exc:
            return forbidden_page(request, exc.message)
        except DomainError as exc:
            return render(
                request, "forbidden.html", {"message": exc.message}, status=exc.http_status
            )

    # functools.wraps's type keeps `org_id` named, which mypy will not match to the
    # positional int of View; Django passes it by name, so it must stay named.
    return cast(View[P], wrapper)


def render_console(
    request: HtmxRequest,
    organization: Organization,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    match = request.resolver_match
    current = f"{match.namespace}:{match.url_name}" if match else ""
    return render(
        request,
        template,
        {
            "organization": organization,
            "console_nav": nav.links_for(organization, current),
            "admin_orgs": admin_organizations(viewer_of(request)),
            **context,
        },
        status=status,
    )


def paginate(request: HtmxRequest, queryset: QuerySet[Any], per_page: int = PER_PAGE) -> Page[Any]:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def page_query(request: HtmxRequest) -> str:
    """The current filters without the page number, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def int_param(request: HtmxRequest, name: str) -> int | None:
    return params.int_param(request.GET.get(name, "").strip())


def date_param(request: HtmxRequest, name: str) -> date | None:
    return params.date_param(request.GET.get(name, "").strip())


def choice_param(request: HtmxRequest, name: str, choices: list[str]) -> str:
    raw = request.GET.get(name, "").strip()
    return raw if raw in choices else ""
