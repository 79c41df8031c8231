"""The console's Reports page: a term or a date range, charts drawn on the server with the
same numbers in tables beside them, and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from django.http import HttpResponse
from django.utils import timezone

from studyhall.console.pages import console_page, date_param, int_param, render_console
from studyhall.feeds.reports import CHART_HEIGHT, CHART_WIDTH, bars, build_report, report_csv_rows
from studyhall.orgs.models import Organization, Term
from studyhall.web.viewer import HtmxRequest

MAX_RANGE_DAYS = 366 * 2


def chosen_range(
    request: HtmxRequest, organization: Organization
) -> tuple[date, date, Term | None, str]:
    """The term asked for, else since/until, else the last 12 weeks; with a refusal, if any."""
    term_id = int_param(request, "term")
    term = Term.objects.filter(organization=organization, pk=term_id).first() if term_id else None
    if term is not None:
        return term.start, term.end, term, ""
    today = timezone.now().astimezone(organization.zone).date()
    since = date_param(request, "since") or today - timedelta(weeks=12)
    until = date_param(request, "until") or today
    if until < since:
        return until, until, None, "The range ends before it starts; pick an end after the start."
    if (until - since).days > MAX_RANGE_DAYS:
        return since, since, None, "Pick a range of at most two years."
    return since, until, None, ""


@console_page
def reports_page(request: HtmxRequest, organization: Organization) -> HttpResponse:
    since, until, term, refusal = chosen_range(request, organization)
    terms = list(Term.objects.filter(organization=organization).order_by("-start"))
    if refusal:
        return render_console(
            request,
            organization,
            "feeds/reports.html",
            {"refusal": refusal, "terms": terms, "since": since, "until": until},
            status=400,
        )
    report = build_report(organization, since=since, until=until)
    if request.GET.get("format") == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(report_csv_rows(report))
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{organization.slug}-report-{since}-{until}.csv"'
        )
        return response
    weeks = sorted(report.weeks.items())
    query = request.GET.copy()
    query["format"] = "csv"
    return render_console(
        request,
        organization,
        "feeds/reports.html",
        {
            "report": report,
            "terms": terms,
            "term": term,
            "since": since,
            "until": until,
            "weeks": weeks,
            # Lists, not the dicts: a template would read `.items` off a Counter as a key.
            "status_counts": sorted(report.total.by_status.items()),
            "courses": sorted(report.courses.items()),
            "tutors": sorted(report.tutors.items()),
            "programs": sorted(report.programs.items()),
            "budgets": report.budgets,
            "week_bars": bars([(w.strftime("%b %-d"), g.sessions) for w, g in weeks]),
            "course_bars": bars(
                [
                    (f"{c}: {g.contact_hours} h", g.contact_minutes)
                    for c, g in sorted(report.courses.items())
                ]
            ),
            "chart_width": CHART_WIDTH,
            "chart_height": CHART_HEIGHT,
            "csv_query": query.urlencode(),
        },
    )
