"""Earnings pages: the tutor's Transaction history and Earnings & payouts settings, and the
org admin's payout batches with their payroll export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError, Forbidden, NotFound
from studyhall.core.money import Money
from studyhall.ledger import exports, selectors, taxes
from studyhall.ledger.connect import bank_account_link, refresh_connected_account
from studyhall.ledger.models import ConnectedAccount, PayoutBatch
from studyhall.ledger.payouts import (
    build_batch,
    fail_payout,
    mark_batch_paid,
    week_label,
)
from studyhall.ledger.providers.stripe_connect import (
    ADMIN_NOT_CONFIGURED,
    TUTOR_NOT_CONFIGURED,
    stripe_configured,
)
from studyhall.ledger.weeks import last_finished_week
from studyhall.orgs.models import Organization, PayoutProvider, Role
from studyhall.orgs.selectors import roles_of
from studyhall.web.params import date_param
from studyhall.web.viewer import viewer_of

# -- the tutor -----------------------------------------------------------------------------


@login_required
def transactions(request: HttpRequest) -> HttpResponse:
    user = viewer_of(request)
    zone = user.zone
    since, until = date_param(request.GET.get("since")), date_param(request.GET.get("until"))
    start, end = selectors.day_range(since, until, zone)
    rows = selectors.history_of(user, since=start, until=end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(
            exports.history_csv(rows, zone=zone), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="studyhall-transactions.csv"'
        return response
    query = request.GET.copy()
    query["format"] = "csv"
    return render(
        request,
        "ledger/transactions.html",
        {
            "balances": selectors.balances_of(user),
            "rows": rows,
            "since": since,
            "until": until,
            "filtered": since is not None or until is not None,
            "csv_query": query.urlencode(),
            "years": selectors.yearly_summary(user),
        },
    )


@login_required
def payout_settings(request: HttpRequest) -> HttpResponse:
    user = viewer_of(request)
    return render(
        request,
        "ledger/settings.html",
        {
            "balances": selectors.balances_of(user),
            "next": selectors.next_payouts(user),
            "payouts": list(selectors.payouts_of(user)[:12]),
            "connected": ConnectedAccount.objects.filter(user=user).first(),
            "stripe_ready": stripe_configured(),
            "stripe_missing": TUTOR_NOT_CONFIGURED,
        },
    )


@login_required
@require_POST
def stripe_connect(request: HttpRequest) -> HttpResponse:
    return _to_stripe(request)


@login_required
def stripe_refresh(request: HttpRequest) -> HttpResponse:
    """Stripe sends the tutor here when an onboarding link expired: make a fresh one."""
    return _to_stripe(request)


def _to_stripe(request: HttpRequest) -> HttpResponse:
    try:
        url = bank_account_link(
            actor=viewer_of(request),
            refresh_url=request.build_absolute_uri(reverse("ledger:stripe_refresh")),
            return_url=request.build_absolute_uri(reverse("ledger:stripe_return")),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("ledger:settings")
    return redirect(url)


@login_required
def stripe_return(request: HttpRequest) -> HttpResponse:
    try:
        account = refresh_connected_account(actor=viewer_of(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("ledger:settings")
    if account is not None and account.payouts_enabled:
        messages.success(request, "Your bank account is connected; payouts will go there.")
    elif account is not None:
        messages.warning(
            request, "Stripe still needs a few details before it can pay you; continue below."
        )
    return redirect("ledger:settings")


# -- the org admin -------------------------------------------------------------------------


def _admin_org(user: User, organization_id: int) -> Organization:
    organization = Organization.objects.filter(pk=organization_id).first()
    roles = roles_of(user, organization_id) if organization is not None else set()
    if organization is None or not roles:
        raise Http404("There is no such organization.")
    if Role.ADMIN not in roles:
        raise _Refused("Only the organization's admins manage its payouts.")
    return organization


def _admin_batch(user: User, batch_id: int) -> PayoutBatch:
    batch = PayoutBatch.objects.select_related("organization").filter(pk=batch_id).first()
    if batch is None:
        raise Http404("There is no such payout batch.")
    _admin_org(user, batch.organization_id)
    return batch


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "403.html", {"exception": message}, status=403)


@login_required
def admin_home(request: HttpRequest) -> HttpResponse:
    organizations = selectors.admin_organizations(viewer_of(request))
    if len(organizations) == 1:
        return redirect("ledger:admin_org", organizations[0].pk)
    if not organizations:
        return _forbidden(request, "Payout batches are for organization admins.")
    return render(request, "ledger/admin_home.html", {"organizations": organizations})


@login_required
def admin_org(request: HttpRequest, org_id: int) -> HttpResponse:
    try:
        organization = _admin_org(viewer_of(request), org_id)
    except _Refused as exc:
        return _forbidden(request, exc.message)
    week = last_finished_week(timezone.now(), organization.zone)
    return render(
        request,
        "ledger/admin_org.html",
        {
            "organization": organization,
            "batches": list(selectors.batches_of(organization)),
            "last_week": week,
            "last_week_label": week_label(week),
            "last_week_built": PayoutBatch.objects.filter(
                organization=organization, week_start=week
            ).exists(),
            "year": timezone.now().astimezone(organization.zone).year,
            "stripe_missing": (
                ADMIN_NOT_CONFIGURED
                if organization.payout_provider == PayoutProvider.STRIPE and not stripe_configured()
                else ""
            ),
        },
    )


@login_required
@require_POST
def admin_run(request: HttpRequest, org_id: int) -> HttpResponse:
    user = viewer_of(request)
    try:
        organization = _admin_org(user, org_id)
        week = last_finished_week(timezone.now(), organization.zone)
        result = build_batch(organization_id=organization.pk, week_start=week, actor=user)
    except _Refused as exc:
        return _forbidden(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("ledger:admin_org", org_id)
    if result.created:
        messages.success(
            request,
            f"Built the payouts for the week of {week_label(week)}: {len(result.payouts)} "
            "payout(s).",
        )
    else:
        messages.info(request, f"The week of {week_label(week)} was already built.")
    return redirect("ledger:admin_batch", result.batch.pk)


@login_required
def admin_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    try:
        batch = _admin_batch(viewer_of(request), batch_id)
    except _Refused as exc:
        return _forbidden(request, exc.message)
    lines = selectors.batch_lines(batch)
    return render(
        request,
        "ledger/admin_batch.html",
        {
            "batch": batch,
            "organization": batch.organization,
            "lines": lines,
            "week_label": week_label(batch.week_start),
            "total_cents": sum(line.payout.amount_cents for line in lines),
            "missing_ids": sum(1 for line in lines if not line.employee_id),
            "scheduled": sum(1 for line in lines if line.payout.status == "scheduled"),
        },
    )


@login_required
def admin_batch_csv(request: HttpRequest, batch_id: int) -> HttpResponse:
    try:
        batch = _admin_batch(viewer_of(request), batch_id)
    except _Refused as exc:
        return _forbidden(request, exc.message)
    response = HttpResponse(exports.payroll_csv(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.payroll_filename(batch)}"'
    return response


@login_required
@require_POST
def admin_batch_paid(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = viewer_of(request)
    try:
        batch = _admin_batch(user, batch_id)
        paid = mark_batch_paid(batch_id=batch.pk, actor=user)
    except _Refused as exc:
        return _forbidden(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("ledger:admin_batch", batch_id)
    messages.success(request, f"Marked {len(paid)} payout(s) paid.")
    return redirect("ledger:admin_batch", batch_id)


@login_required
@require_POST
def admin_payout_fail(request: HttpRequest, payout_id: int) -> HttpResponse:
    user = viewer_of(request)
    try:
        payout = fail_payout(
            payout_id=payout_id, actor=user, reason=str(request.POST.get("reason", ""))
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return _forbidden(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("ledger:admin_home")
    messages.success(
        request, f"Marked {payout.tutor.display_name}'s payout failed; it is back in their balance."
    )
    return redirect("ledger:admin_batch", payout.batch_id)


@login_required
def admin_year(request: HttpRequest, org_id: int, year: int) -> HttpResponse:
    if not taxes.valid_year(year):
        raise Http404("There is no such year.")
    try:
        organization = _admin_org(viewer_of(request), org_id)
    except _Refused as exc:
        return _forbidden(request, exc.message)
    return render(
        request,
        "ledger/admin_year.html",
        {
            "organization": organization,
            "year": year,
            "rows": selectors.tutor_year_totals(organization, year),
            "payroll": taxes.pays_through_payroll(organization),
            "federal_threshold": Money(taxes.federal_threshold_cents(year), "USD"),
        },
    )
