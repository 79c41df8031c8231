"""Roster import: upload a CSV for a dry run, review what would change, then apply it."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from studyhall.console import forms, progress, selectors
from studyhall.console.models import RosterImport
from studyhall.console.pages import SHOWN, console_page, paginate, render_console
from studyhall.console.services import roster as service
from studyhall.orgs.models import Organization
from studyhall.web.viewer import HtmxRequest, viewer_of


def _page(
    request: HtmxRequest, organization: Organization, form: forms.RosterForm, status: int = 200
) -> HttpResponse:
    imports = selectors.roster_imports(organization)
    return render_console(
        request,
        organization,
        "console/roster.html",
        {
            "form": form,
            "page": paginate(request, imports, 10),
            "query": "",
            "header": ",".join(service.HEADER),
            "max_mb": service.MAX_BYTES // 1024 // 1024,
        },
        status=status,
    )


@console_page
def roster(request: HtmxRequest, organization: Organization) -> HttpResponse:
    if request.method != "POST":
        return _page(request, organization, forms.RosterForm())
    form = forms.RosterForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            service.check_size(upload.size)
            with transaction.atomic(durable=True):
                checked = service.check_roster(
                    organization_id=organization.pk,
                    actor=viewer_of(request),
                    filename=upload.name or "roster.csv",
                    data=upload.read(),
                    deactivate_missing=request.POST.get("deactivate_missing") == "1",
                )
        except SHOWN as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("console:roster_import", org_id=organization.pk, import_id=checked.pk)
    return _page(request, organization, form, status=400)


def _import(organization: Organization, import_id: int) -> RosterImport:
    found = selectors.roster_import(organization, import_id)
    if found is None:
        raise Http404("There is no such roster import.")
    return found


@console_page
def roster_import(request: HtmxRequest, organization: Organization, import_id: int) -> HttpResponse:
    checked = _import(organization, import_id)
    return render_console(
        request,
        organization,
        "console/roster_import.html",
        {"import": checked, "summary": checked.summary, "applied": checked.applied_summary},
    )


@require_POST
@console_page
def roster_apply(request: HtmxRequest, organization: Organization, import_id: int) -> HttpResponse:
    checked = _import(organization, import_id)
    try:
        with transaction.atomic(durable=True):
            summary = service.apply_roster(
                organization_id=organization.pk,
                import_id=checked.pk,
                actor=viewer_of(request),
                progress=lambda p: progress.report(checked.pk, p),
            )
    except SHOWN as exc:
        messages.error(request, exc.message)
    else:
        changed = sum(v for k, v in summary.items() if k != "rows")
        if changed:
            messages.success(
                request,
                f"Imported {summary['rows']:,} rows: {summary['to_add']:,} added, "
                f"{summary['to_update']:,} updated, {summary['to_deactivate']:,} deactivated.",
            )
        else:
            messages.info(request, "Nothing to change: the roster already matches this file.")
    finally:
        progress.clear(checked.pk)
    return redirect("console:roster_import", org_id=organization.pk, import_id=checked.pk)


@console_page
def roster_progress(
    request: HtmxRequest, organization: Organization, import_id: int
) -> HttpResponse:
    """How far applying the file has got: the page asks again until it is done."""
    checked = _import(organization, import_id)
    return render_console(
        request,
        organization,
        "console/_roster_progress.html",
        {"import": checked, "progress": progress.current(checked.pk)},
    )
