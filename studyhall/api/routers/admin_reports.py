"""Org admins' reports as JSON: the same figures as the console's Reports page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router

from studyhall.api.auth import actor_of
from studyhall.api.schemas import ProblemOut
from studyhall.core.errors import InvalidInput, NotFound
from studyhall.feeds.access import admin_organization
from studyhall.feeds.reports import build_report
from studyhall.orgs.models import Term

router = Router(tags=["admin: reports"])
MAX_RANGE_DAYS = 366 * 2


@router.get(
    "/{int:org_id}/reports", response={200: dict[str, Any], (400, 401, 403, 404): ProblemOut}
)
def report(
    request: HttpRequest,
    org_id: int,
    since: date | None = None,
    until: date | None = None,
    term: int | None = None,
) -> dict[str, Any]:
    """Sessions by status, contact hours, unique and repeat students, no-show and cancellation
    rates (percent), average recap length and spend (cents), in total and by week (Monday,
    the organization's zone), course and tutor. A `term` id, or `since`/`until` (inclusive,
    YYYY-MM-DD; the last 12 weeks by default)."""
    organization = admin_organization(actor_of(request), org_id)
    if term is not None:
        chosen = Term.objects.filter(organization=organization, pk=term).first()
        if chosen is None:
            raise NotFound("There is no such term.", code="unknown_term")
        since, until = chosen.start, chosen.end
    today = timezone.now().astimezone(organization.zone).date()
    until = until or today
    since = since or until - timedelta(weeks=12)
    if until < since:
        raise InvalidInput("The range ends before it starts.", code="invalid_range", field="until")
    if (until - since).days > MAX_RANGE_DAYS:
        raise InvalidInput("Ask for at most two years at a time.", code="invalid_range")
    return build_report(organization, since=since, until=until).as_dict()
