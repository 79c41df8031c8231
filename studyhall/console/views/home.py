"""The admin's landing page: this week and this term at a glance, and what needs attention."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from studyhall.console import nav, selectors
from studyhall.console.pages import console_page, render_console
from studyhall.orgs.models import Organization
from studyhall.web.refusals import forbidden_page
from studyhall.web.viewer import HtmxRequest, viewer_of

ATTENTION_ROWS = 5


def landing(request: HtmxRequest) -> HttpResponse:
    """Where sign-in leads: an org admin to their console, a support agent to the sessions
    Support is handling for them, everyone else to their sessions."""
    if request.user.is_authenticated:
        viewer = viewer_of(request)
        if viewer.is_support_agent:
            return redirect("support:sessions")
        if selectors.admin_organizations(viewer):
            return redirect("console:index")
    return redirect("tutoring:sessions")


@login_required
def index(request: HtmxRequest) -> HttpResponse:
    organizations = selectors.admin_organizations(viewer_of(request))
    if not organizations:
        return forbidden_page(request, "The console is for organization admins.")
    wanted = request.GET.get("org", "")
    if wanted:
        # The org switcher: only one of the viewer's own organizations exists for them.
        match = next((o for o in organizations if str(o.pk) == wanted), None)
        if match is None:
            raise Http404("There is no such organization.")
        return redirect("console:home", org_id=match.pk)
    chosen = request.session.get("console_org")
    current = next((o for o in organizations if o.pk == chosen), organizations[0])
    return redirect("console:home", org_id=current.pk)


@console_page
def home(request: HtmxRequest, organization: Organization) -> HttpResponse:
    request.session["console_org"] = organization.pk
    now = timezone.now()
    today = now.astimezone(organization.zone).date()
    week = selectors.week_start(today)
    term = week - timedelta(weeks=selectors.TERM_WEEKS - 1)
    until = selectors.local_midnight(week + timedelta(weeks=1), organization)
    late, corrections = selectors.waiting_on_support(organization)
    closed = selectors.logging_closed(organization, now=now)
    flagged = selectors.flagged(organization)
    unanswered = selectors.unanswered_requests(organization, now=now)
    unpaid = selectors.tutors_without_payout_method(organization)
    low = selectors.low_ratings(organization)
    recaps = selectors.flagged_recaps(organization)
    absences = selectors.tutor_absence_reports(organization)
    return render_console(
        request,
        organization,
        "console/home.html",
        {
            "week": selectors.figures(
                organization, selectors.local_midnight(week, organization), until
            ),
            "week_start": week,
            "term": selectors.figures(
                organization, selectors.local_midnight(term, organization), until
            ),
            "term_start": term,
            "bars": selectors.sessions_per_week(organization, today=today),
            "closed": list(closed[:ATTENTION_ROWS]),
            "closed_count": closed.count(),
            "flagged": list(flagged[:ATTENTION_ROWS]),
            "flagged_count": flagged.count(),
            "unanswered": list(unanswered[:ATTENTION_ROWS]),
            "unanswered_count": unanswered.count(),
            "absences": list(absences[:ATTENTION_ROWS]),
            "absences_count": absences.count(),
            "late_logs": late,
            "corrections": corrections,
            "flagged_recaps": list(recaps[:ATTENTION_ROWS]),
            "flagged_recaps_count": recaps.count(),
            "low_ratings": list(low[:ATTENTION_ROWS]),
            "low_ratings_count": low.count(),
            "unpaid": list(unpaid[:ATTENTION_ROWS]),
            "unpaid_count": unpaid.count(),
            "panels": [
                (panel.template, panel.context(organization)) for panel in nav.home_panels()
            ],
        },
    )
