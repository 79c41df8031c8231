"""Payouts: org admins' weekly batches (build, read, payroll export, mark paid, report a failed
payroll payment), and Stripe's webhook, which is signed rather than authenticated."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja import Status as Reply
from ninja.params.functions import Query
from pydantic import StrictStr

from studyhall.api.auth import actor_of
from studyhall.api.schemas import Id, Input, ProblemOut
from studyhall.core.errors import NotFound
from studyhall.ledger import exports, selectors
from studyhall.ledger.models import Payout, PayoutBatch
from studyhall.ledger.payouts import (
    build_batch,
    fail_payout,
    mark_batch_paid,
    require_payout_admin,
)
from studyhall.ledger.selectors import HistoryRow
from studyhall.ledger.webhooks import handle_stripe_event
from studyhall.ledger.weeks import last_finished_week
from studyhall.orgs.models import Membership, Organization, Role

router = Router(tags=["payouts"])

ERRORS = {(400, 401, 403, 404, 409, 413, 422): ProblemOut}


# -- shapes --------------------------------------------------------------------------------


class PayoutRefOut(Schema):
    id: int
    status: str
    payout_date: date
    week_start: date


class HistoryTransactionOut(Schema):
    id: int
    kind: str
    amount_cents: int
    currency: str
    description: str
    created_at: datetime
    session_id: int | None
    minutes: int | None = Field(
        description="Earnings: the minutes paid; corrections: the change in minutes."
    )
    hourly_rate_cents: int | None
    computation: str = Field(description='How the amount was computed, e.g. "55 min × $15.00/h".')
    payout: PayoutRefOut | None = Field(
        description="The payout this earning is in (or, for a payout posting, the payout)."
    )


class HistoryPage(Schema):
    transactions: list[HistoryTransactionOut]
    limit: int
    offset: int
    next_offset: int | None


class PayoutEventOut(Schema):
    status: str
    at: datetime
    reason: str


class OrganizationRefOut(Schema):
    id: int
    name: str


class TutorRefOut(Schema):
    id: int
    name: str
    email: str
    employee_id: str


class PayoutOut(Schema):
    id: int
    organization: OrganizationRefOut
    week_start: date
    week_end: date
    payout_date: date
    amount_cents: int
    currency: str
    minutes: int
    status: str
    provider: str
    failure_reason: str
    events: list[PayoutEventOut]


class PayoutPage(Schema):
    payouts: list[PayoutOut]
    limit: int
    offset: int
    next_offset: int | None


class BatchPayoutOut(Schema):
    id: int
    tutor: TutorRefOut
    amount_cents: int
    minutes: int
    status: str
    failure_reason: str


class BatchOut(Schema):
    id: int
    organization_id: int
    week_start: date
    week_end: date
    payout_date: date
    provider: str
    currency: str
    total_cents: int
    payouts: list[BatchPayoutOut]


class BatchSummaryOut(Schema):
    id: int
    week_start: date
    payout_date: date
    provider: str
    currency: str
    payout_count: int
    total_cents: int


class BatchListOut(Schema):
    batches: list[BatchSummaryOut]


class BuildIn(Input):
    organization_id: Id
    week_start: date | None = Field(
        None, description="A Monday; by default the organization's last finished week."
    )


class FailIn(Input):
    reason: StrictStr = Field(max_length=500, description="What went wrong; the tutor sees it.")


class WebhookOut(Schema):
    received: bool
    outcome: str


# -- rendering -----------------------------------------------------------------------------


def _payout_ref(payout: Payout | None) -> dict[str, Any] | None:
    if payout is None:
        return None
    return {
        "id": payout.pk,
        "status": payout.status,
        "payout_date": payout.batch.payout_date,
        "week_start": payout.batch.week_start,
    }


def history_out(row: HistoryRow) -> dict[str, Any]:
    t = row.transfer
    return {
        "id": t.pk,
        "kind": t.kind,
        "amount_cents": row.amount.cents,
        "currency": t.currency,
        "description": t.description,
        "created_at": t.created_at,
        "session_id": t.session_id,
        "minutes": row.minutes,
        "hourly_rate_cents": row.hourly_rate_cents,
        "computation": row.computation,
        "payout": _payout_ref(row.payout or row.own_payout),
    }


def payout_out(payout: Payout) -> dict[str, Any]:
    return {
        "id": payout.pk,
        "organization": {"id": payout.organization.pk, "name": payout.organization.name},
        "week_start": payout.batch.week_start,
        "week_end": payout.batch.week_end,
        "payout_date": payout.batch.payout_date,
        "amount_cents": payout.amount_cents,
        "currency": payout.currency,
        "minutes": payout.minutes,
        "status": payout.status,
        "provider": payout.batch.provider,
        "failure_reason": payout.failure_reason,
        "events": [
            {"status": e.status, "at": e.created_at, "reason": e.reason}
            for e in payout.events.all()
        ],
    }


def batch_out(batch: PayoutBatch) -> dict[str, Any]:
    lines = selectors.batch_lines(batch)
    return {
        "id": batch.pk,
        "organization_id": batch.organization_id,
        "week_start": batch.week_start,
        "week_end": batch.week_end,
        "payout_date": batch.payout_date,
        "provider": batch.provider,
        "currency": batch.currency,
        "total_cents": sum(line.payout.amount_cents for line in lines),
        "payouts": [_batch_payout(line.payout, line.employee_id) for line in lines],
    }


def _batch_payout(payout: Payout, employee_id: str) -> dict[str, Any]:
    return {
        "id": payout.pk,
        "tutor": {
            "id": payout.tutor.pk,
            "name": payout.tutor.display_name,
            "email": payout.tutor.email,
            "employee_id": employee_id,
        },
        "amount_cents": payout.amount_cents,
        "minutes": payout.minutes,
        "status": payout.status,
        "failure_reason": payout.failure_reason,
    }


def _batch_for_admin(request: HttpRequest, batch_id: int) -> PayoutBatch:
    batch = PayoutBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("There is no such payout batch.")
    require_payout_admin(actor_of(request), batch.organization_id)
    return batch


# -- endpoints -----------------------------------------------------------------------------


@router.get("/batches", response={200: BatchListOut, **ERRORS})
def list_batches(
    request: HttpRequest, organization_id: int = Query(..., ge=1, le=2**63 - 1)
) -> dict[str, Any]:
    """The organization's weekly batches, newest first (org admins)."""
    require_payout_admin(actor_of(request), organization_id)
    organization = Organization.objects.get(pk=organization_id)
    return {
        "batches": [
            {
                "id": b.pk,
                "week_start": b.week_start,
                "payout_date": b.payout_date,
                "provider": b.provider,
                "currency": b.currency,
                "payout_count": b.payout_count,  # type: ignore[attr-defined]
                "total_cents": b.total_cents or 0,  # type: ignore[attr-defined]
            }
            for b in selectors.batches_of(organization)
        ]
    }


@router.post("/batches", response={200: BatchOut, 201: BatchOut, **ERRORS})
def build(request: HttpRequest, payload: BuildIn) -> Reply[dict[str, Any]]:
    """Build a week's batch now (it is also built automatically once the week ends).
    201 when built, 200 when it already existed: building is idempotent."""
    actor = actor_of(request)
    require_payout_admin(actor, payload.organization_id)
    organization = Organization.objects.get(pk=payload.organization_id)
    week = payload.week_start or last_finished_week(timezone.now(), organization.zone)
    result = build_batch(organization_id=organization.pk, week_start=week, actor=actor)
    return Reply(201 if result.created else 200, batch_out(result.batch))


@router.get("/batches/{batch_id}", response={200: BatchOut, **ERRORS})
def batch_detail(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    return batch_out(_batch_for_admin(request, batch_id))


@router.get(
    "/batches/{batch_id}/payroll.csv",
    response={200: str, **ERRORS},
    openapi_extra={"responses": {200: {"content": {"text/csv": {}}}}},
)
def payroll_csv(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The batch as CSV for payroll: employee_id, name, email, hours, amount, currency,
    period_start, period_end, payout_id. The same batch always gives the same file."""
    batch = _batch_for_admin(request, batch_id)
    response = HttpResponse(exports.payroll_csv(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.payroll_filename(batch)}"'
    return response


@router.post("/batches/{batch_id}/mark-paid", response={200: BatchOut, **ERRORS})
def mark_paid(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    """Payroll paid the batch: every scheduled payout in it becomes paid. Idempotent."""
    batch = _batch_for_admin(request, batch_id)
    mark_batch_paid(batch_id=batch.pk, actor=actor_of(request))
    return batch_out(batch)


@router.post("/{payout_id}/fail", response={200: BatchPayoutOut, **ERRORS})
def fail(request: HttpRequest, payout_id: int, payload: FailIn) -> dict[str, Any]:
    """Payroll could not pay this payout: its money returns to the tutor's balance."""
    payout = fail_payout(payout_id=payout_id, actor=actor_of(request), reason=payload.reason)
    employee_id = (
        Membership.objects.filter(
            organization_id=payout.organization_id, user_id=payout.tutor_id, role=Role.TUTOR
        )
        .values_list("employee_id", flat=True)
        .first()
    )
    return _batch_payout(payout, employee_id or "")


@router.post("/stripe/webhook", auth=None, response={200: WebhookOut, (400, 503): ProblemOut})
def stripe_webhook(request: HttpRequest) -> dict[str, Any]:
    """Stripe's events (payout.paid, payout.failed, account.updated), verified by their
    `Stripe-Signature`; a forged or stale signature is refused with 400."""
    outcome = handle_stripe_event(
        payload=request.body, signature=request.headers.get("Stripe-Signature")
    )
    return {"received": True, "outcome": outcome}
