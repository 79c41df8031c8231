"""Every session of the organization, filtered; each opens to its own page."""

from __future__ import annotations

from django.http import HttpResponse

from studyhall.console import selectors
from studyhall.console.pages import (
    choice_param,
    console_page,
    date_param,
    int_param,
    page_query,
    paginate,
    render_console,
)
from studyhall.orgs.models import Organization
from studyhall.tutoring.models import Mode, Status
from studyhall.web.viewer import HtmxRequest


@console_page
def sessions(request: HtmxRequest, organization: Organization) -> HttpResponse:
    filters = selectors.SessionFilters(
        status=choice_param(request, "status", list(Status.values)),
        course_id=int_param(request, "course"),
        tutor_id=int_param(request, "tutor"),
        student_id=int_param(request, "student"),
        mode=choice_param(request, "mode", list(Mode.values)),
        since=date_param(request, "since"),
        until=date_param(request, "until"),
        flagged=request.GET.get("flagged") == "1",
        q=request.GET.get("q", "").strip()[:100],
    )
    page = paginate(request, selectors.sessions(organization, filters))
    for session in page.object_list:
        session.console_flagged = selectors.is_flagged(session)
    template = (
        "console/_session_rows.html"
        if request.htmx.target == "session-results"
        else ("console/sessions.html")
    )
    return render_console(
        request,
        organization,
        template,
        {
            "page": page,
            "query": page_query(request),
            "filters": filters,
            "statuses": Status.choices,
            "modes": Mode.choices,
            "courses": list(organization.courses.order_by("code")),
            "tutors": list(selectors.tutors_of(organization)),
        },
    )
