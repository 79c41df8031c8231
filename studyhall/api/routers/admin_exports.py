"""Org admins' exports: the six CSV files in Knack's shape, streamed."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Router, Schema

from studyhall.api.auth import actor_of
from studyhall.api.schemas import ProblemOut
from studyhall.core.errors import NotFound
from studyhall.core.streaming import streaming_content
from studyhall.feeds.access import admin_organization
from studyhall.feeds.exports import EXPORTS, export_named

router = Router(tags=["admin: exports"])


class ExportOut(Schema):
    name: str
    filename: str
    title: str
    columns: list[str]
    url: str


@router.get("/{int:org_id}/exports", response={200: list[ExportOut], (401, 403, 404): ProblemOut})
def list_exports(request: HttpRequest, org_id: int) -> list[dict[str, object]]:
    """The organization's exports, with their columns."""
    organization = admin_organization(actor_of(request), org_id)
    return [
        {
            "name": e.name,
            "filename": e.filename,
            "title": e.title,
            "columns": list(e.columns),
            "url": f"/api/v1/admin/orgs/{organization.pk}/exports/{e.filename}",
        }
        for e in EXPORTS.values()
    ]


@router.get(
    "/{int:org_id}/exports/{filename}",
    response={(401, 403, 404): ProblemOut},
    openapi_extra={"responses": {200: {"content": {"text/csv": {}}}}},
)
def download_export(request: HttpRequest, org_id: int, filename: str) -> StreamingHttpResponse:
    """One export as CSV (`sessions.csv`, `users.csv`, `tutor_requests.csv`, `recaps.csv`,
    `transactions.csv`, `payouts.csv`), streamed row by row."""
    organization = admin_organization(actor_of(request), org_id)
    export = export_named(filename)
    if export is None:
        raise NotFound(
            f"There is no export {filename!r}; choose one of "
            + ", ".join(e.filename for e in EXPORTS.values())
            + ".",
            code="unknown_export",
        )
    response = StreamingHttpResponse(
        streaming_content(request, export.lines(organization)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{organization.slug}-{export.filename}"'
    )
    return response
