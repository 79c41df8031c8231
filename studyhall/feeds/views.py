"""The org admin's data pages in the console: exports to download."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse

from studyhall.console.pages import console_page, render_console
from studyhall.core.errors import Forbidden, NotFound
from studyhall.core.streaming import streaming_content
from studyhall.feeds.access import admin_organization
from studyhall.feeds.exports import EXPORTS, export_named
from studyhall.orgs.models import Organization
from studyhall.web.refusals import forbidden_page
from studyhall.web.viewer import HtmxRequest, viewer_of


def csv_download(
    request: HttpRequest, lines: Iterator[str], filename: str
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        streaming_content(request, lines), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@console_page
def exports_page(request: HtmxRequest, organization: Organization) -> HttpResponse:
    return render_console(
        request, organization, "feeds/exports.html", {"exports": list(EXPORTS.values())}
    )


@login_required
def export_download(
    request: HttpRequest, org_id: int, filename: str
) -> HttpResponse | StreamingHttpResponse:
    # Not a console_page: a streamed file is not an HttpResponse.
    try:
        organization = admin_organization(viewer_of(request), org_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return forbidden_page(request, exc.message)
    export = export_named(filename)
    if export is None:
        raise Http404("There is no such export.")
    return csv_download(
        request, export.lines(organization), f"{organization.slug}-{export.filename}"
    )
