"""Weekly payouts: building each week's batch, and moving payouts through their lifecycle.

    scheduled ──► in transit ──► paid
        │              │           │
        └──────────────┴───────────┴──► failed (the money returns to the tutor's balance)

Payroll payouts go from scheduled straight to paid when an org admin marks the batch paid.
Every move appends a PayoutEvent and an audit entry; a move that moves money posts a transfer:
scheduling takes the payout from the tutor's earnings into the organization's pending-payouts
account, paying settles it into the paid-out account, failing returns it to the tutor.

Services own their transaction (`transaction.atomic()`), lock the payout row before moving it,
and call providers only outside any transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from studyhall.core.money import format_cents
from studyhall.ledger.models import (
    PAYABLE_KINDS,
    Account,
    AccountKind,
    ConnectedAccount,
    Entry,
    Payout,
    PayoutBatch,
    PayoutEvent,
    PayoutItem,
    PayoutStatus,
    ProviderName,
    Transfer,
    TransferKind,
)
from studyhall.ledger.notify import after_commit_tell_tutor
from studyhall.ledger.providers import (
    ProviderRefused,
    ProviderUnavailable,
    Sent,
    provider_for,
)
from studyhall.ledger.services import org_account, post_transfer, tutor_account
from studyhall.ledger.weeks import last_finished_week, payout_date_for, week_bounds
from studyhall.orgs.models import Organization, Role
from studyhall.orgs.selectors import roles_of

logger = logging.getLogger(__name__)

S = PayoutStatus
ALLOWED_MOVES: frozenset[tuple[str, str]] = frozenset(
    {
        (S.SCHEDULED, S.IN_TRANSIT),
        (S.SCHEDULED, S.PAID),  # payroll: the organization paid it
        (S.SCHEDULED, S.FAILED),
        (S.IN_TRANSIT, S.PAID),
        (S.IN_TRANSIT, S.FAILED),
        # A bank can return a payout days after reporting it paid.
        (S.PAID, S.FAILED),
    }
)
NO_BANK_ACCOUNT = (
    "No bank account is connected. Connect one under Account settings → Earnings & payouts; "
    "the money is back in your balance and goes out with your next payout."
)


def week_label(week_start: date) -> str:
    """'Mar 3–9, 2025', or 'Mar 31 – Apr 6, 2025' across a month."""
    week_end = week_start + timedelta(days=6)
    if week_start.month == week_end.month:
        return f"{week_start:%b} {week_start.day}–{week_end.day}, {week_end.year}"
    return f"{week_start:%b} {week_start.day} – {week_end:%b} {week_end.day}, {week_end.year}"


# -- building a week's batch ---------------------------------------------------------------


@dataclass(frozen=True)
class BatchResult:
    batch: PayoutBatch
    created: bool
    payouts: list[Payout] = field(default_factory=list)


@dataclass(frozen=True)
class _Posting:
    transfer_id: int
    tutor_id: int
    amount_cents: int
    minutes: int


def unpaid_postings(organization: Organization, *, before: datetime) -> list[_Posting]:
    """Postings on the organization's tutor accounts that no payout holds yet, from sessions
    that began before `before` (or, for postings without a session, made before it)."""
    minutes = Coalesce(
        Case(
            When(transfer__kind=TransferKind.EARNING, then=F("transfer__completion__minutes")),
            When(
                transfer__kind__in=[TransferKind.REVERSAL, TransferKind.ADJUSTMENT],
                then=F("transfer__correction__minutes_after")
                - F("transfer__correction__minutes_before"),
            ),
            When(
                transfer__kind=TransferKind.PAYOUT_RETURNED,
                then=F("transfer__payout_event__payout__minutes"),
            ),
            # Signed on the row that explains it: a hold takes minutes off, a release adds.
            When(
                transfer__kind__in=[TransferKind.HOLD, TransferKind.RELEASE],
                then=F("transfer__held_move__minutes"),
            ),
            output_field=IntegerField(),
        ),
        Value(0),
    )
    rows = (
        Entry.objects.filter(
            account__organization=organization,
            account__kind=AccountKind.TUTOR_EARNINGS,
            account__currency=organization.currency,
            transfer__kind__in=PAYABLE_KINDS,
            transfer__payout_item__isnull=True,
        )
        .filter(
            Q(transfer__session__scheduled_start__lt=before)
            | Q(transfer__session__isnull=True, transfer__created_at__lt=before)
        )
        .annotate(minutes=minutes)
        .order_by("transfer_id")
        .values_list("transfer_id", "account__user_id", "amount_cents", "minutes")
    )
    return [_Posting(t, u, a, m) for t, u, a, m in rows]


def build_batch(
    *,
    organization_id: int,
    week_start: date,
    actor: User | None,
    now: datetime | None = None,
) -> BatchResult:
    """Gather each tutor's unpaid postings up to the end of the week into one payout.

    Idempotent: a week's batch is built once (the unique batch row is claimed first, in the
    same transaction), so a second run — or a second process at the same moment — finds it
    and creates nothing. Tutors whose total is below the organization's minimum get no
    payout; their postings stay unpaid and join a later week's.
    """
    now = now or timezone.now()
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise NotFound("There is no such organization.")
    if actor is not None:
        require_payout_admin(actor, organization.pk)
    if week_start.weekday() != 0:
        raise InvalidInput(
            f"A payout week starts on a Monday; {week_start:%A %b} {week_start.day} is not one.",
            code="not_a_monday",
        )
    zone = organization.zone
    _, week_end = week_bounds(week_start, zone)
    if week_end > now:
        raise Conflict(
            f"The week of {week_label(week_start)} has not ended yet in {organization.time_zone};"
            " its payouts are built once it has.",
            code="week_not_finished",
        )
    with transaction.atomic():
        batch, created = PayoutBatch.objects.get_or_create(
            organization=organization,
            week_start=week_start,
            defaults={
                "payout_date": payout_date_for(
                    week_start, delay_days=organization.payout_delay_days
                ),
                "provider": organization.payout_provider,
                "currency": organization.currency,
            },
        )
        if not created:
            return BatchResult(batch, created=False)
        payouts = _fill_batch(batch, organization, before=week_end, actor=actor)
        audit.record(
            actor=actor,
            action="payout_batch.built",
            organization_id=organization.pk,
            batch_id=batch.pk,
            week_start=week_start.isoformat(),
            payout_date=batch.payout_date.isoformat(),
            provider=batch.provider,
            payouts=len(payouts),
            total_cents=sum(p.amount_cents for p in payouts),
            currency=batch.currency,
        )
    return BatchResult(batch, created=True, payouts=payouts)


def _fill_batch(
    batch: PayoutBatch, organization: Organization, *, before: datetime, actor: User | None
) -> list[Payout]:
    pending = org_account(organization=organization, kind=AccountKind.PAYOUTS_PENDING)
    # Lock every account this batch will post to, in id order (the order post_transfer uses),
    # so that completions and corrections of these tutors wait rather than interleave.
    list(
        Account.objects.select_for_update()
        .filter(
            organization=organization,
            currency=organization.currency,
            kind__in=[AccountKind.TUTOR_EARNINGS, AccountKind.PAYOUTS_PENDING],
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    by_tutor: dict[int, list[_Posting]] = defaultdict(list)
    for posting in unpaid_postings(organization, before=before):
        by_tutor[posting.tutor_id].append(posting)
    payouts = []
    for tutor_id in sorted(by_tutor):
        postings = by_tutor[tutor_id]
        total = sum(p.amount_cents for p in postings)
        if total < organization.min_payout_cents:
            continue
        minutes = sum(p.minutes for p in postings)
        transfer = post_transfer(
            kind=TransferKind.PAYOUT,
            idempotency_key=f"payout:batch:{batch.pk}:tutor:{tutor_id}",
            organization=organization,
            debit=tutor_account(organization=organization, tutor_id=tutor_id),
            credit=pending,
            amount_cents=total,
            description=(
                f"Payout for the week of {week_label(batch.week_start)}, "
                f"due {batch.payout_date:%a %b} {batch.payout_date.day}"
            ),
            created_by=actor,
        )
        payout = Payout.objects.create(
            batch=batch,
            organization=organization,
            tutor_id=tutor_id,
            amount_cents=total,
            currency=organization.currency,
            minutes=minutes,
            transfer=transfer,
        )
        PayoutItem.objects.bulk_create(
            [
                PayoutItem(
                    payout=payout,
                    transfer_id=p.transfer_id,
                    amount_cents=p.amount_cents,
                    minutes=p.minutes,
                )
                for p in postings
            ]
        )
        PayoutEvent.objects.create(
            payout=payout, status=S.SCHEDULED, transfer=transfer, actor=actor
        )
        audit.record(
            actor=actor,
            action="payout.scheduled",
            organization_id=organization.pk,
            payout_id=payout.pk,
            batch_id=batch.pk,
            tutor_id=tutor_id,
            amount_cents=total,
            currency=organization.currency,
            minutes=minutes,
            payout_date=batch.payout_date.isoformat(),
            transfer_ids=[p.transfer_id for p in postings],
        )
        payouts.append(payout)
    return payouts


# -- moving a payout -----------------------------------------------------------------------


def _locked(payout_id: int) -> Payout:
    payout = (
        Payout.objects.select_for_update(of=("self",))
        .select_related("batch", "organization", "tutor")
        .filter(pk=payout_id)
        .first()
    )
    if payout is None:
        raise NotFound("There is no such payout.")
    return payout


def _move(
    payout: Payout,
    target: PayoutStatus,
    *,
    actor: User | None,
    transfer: Transfer | None = None,
    reason: str = "",
    provider_reference: str = "",
    update_fields: tuple[str, ...] = (),
) -> None:
    if (payout.status, target) not in ALLOWED_MOVES:
        raise Conflict(
            f"This payout is {payout.get_status_display().lower()}; it cannot become "
            f"{S(target).label.lower()}.",
            code="payout_state_conflict",
        )
    before = payout.status
    PayoutEvent.objects.create(
        payout=payout,
        status=target,
        transfer=transfer,
        reason=reason[:500],
        provider_reference=provider_reference[:255],
        actor=actor,
    )
    payout.status = target
    payout.save(update_fields=["status", *update_fields])
    audit.record(
        actor=actor,
        action=f"payout.{target}",
        organization_id=payout.organization_id,
        payout_id=payout.pk,
        tutor_id=payout.tutor_id,
        from_status=before,
        amount_cents=payout.amount_cents,
        currency=payout.currency,
        transfer_id=transfer.pk if transfer is not None else None,
        provider_reference=provider_reference or None,
        reason=reason or None,
    )


def _mark_in_transit(payout: Payout, *, sent: Sent, actor: User | None) -> None:
    payout.provider_transfer_id = payout.provider_transfer_id or sent.transfer_id
    payout.provider_payout_id = payout.provider_payout_id or sent.payout_id
    _move(
        payout,
        S.IN_TRANSIT,
        actor=actor,
        provider_reference=sent.payout_id or sent.transfer_id,
        update_fields=("provider_transfer_id", "provider_payout_id"),
    )
    after_commit_tell_tutor(payout_id=payout.pk, event="initiated")


def mark_paid(*, payout_id: int, actor: User | None, provider_reference: str = "") -> Payout:
    """The money reached the tutor: settle it into the paid-out account. Repeating it (a
    redelivered webhook) changes nothing."""
    with transaction.atomic():
        payout = _locked(payout_id)
        if payout.status in (S.PAID, S.FAILED):
            return payout
        if payout.status == S.SCHEDULED and payout.batch.provider == ProviderName.STRIPE:
            # The bank's answer overtook our own record of having sent it.
            _mark_in_transit(
                payout,
                sent=Sent(transfer_id=payout.provider_transfer_id, payout_id=provider_reference),
                actor=actor,
            )
        organization = payout.organization
        settled = post_transfer(
            kind=TransferKind.PAYOUT_SETTLED,
            idempotency_key=f"payout:{payout.pk}:paid",
            organization=organization,
            debit=org_account(organization=organization, kind=AccountKind.PAYOUTS_PENDING),
            credit=org_account(organization=organization, kind=AccountKind.PAID_OUT),
            amount_cents=payout.amount_cents,
            description=f"Payout {payout.pk} to {payout.tutor.display_name} paid",
            created_by=actor,
        )
        _move(payout, S.PAID, actor=actor, transfer=settled, provider_reference=provider_reference)
        after_commit_tell_tutor(payout_id=payout.pk, event="paid")
    return payout


def mark_failed(
    *, payout_id: int, actor: User | None, reason: str, code: str = "", provider_reference: str = ""
) -> Payout:
    """The payout did not reach the tutor: its money returns to their balance (and so into
    their next payout), and they are told what to fix. Repeating it changes nothing."""
    reason = " ".join(reason.split())[:500]
    if not reason:
        raise InvalidInput("Say why the payout failed; the tutor sees it.", code="reason_required")
    with transaction.atomic():
        payout = _locked(payout_id)
        if payout.status == S.FAILED:
            return payout
        organization = payout.organization
        source = AccountKind.PAID_OUT if payout.status == S.PAID else AccountKind.PAYOUTS_PENDING
        returned = post_transfer(
            kind=TransferKind.PAYOUT_RETURNED,
            idempotency_key=f"payout:{payout.pk}:returned",
            organization=organization,
            debit=org_account(organization=organization, kind=source),
            credit=tutor_account(organization=organization, tutor_id=payout.tutor_id),
            amount_cents=payout.amount_cents,
            description=(
                f"Payout of {format_cents(payout.amount_cents, payout.currency)} due "
                f"{payout.batch.payout_date:%b} {payout.batch.payout_date.day} failed; "
                "returned to your balance"
            )[:300],
            created_by=actor,
        )
        payout.failure_reason = reason
        payout.failure_code = code[:64]
        _move(
            payout,
            S.FAILED,
            actor=actor,
            transfer=returned,
            reason=reason,
            provider_reference=provider_reference,
            update_fields=("failure_reason", "failure_code"),
        )
        after_commit_tell_tutor(payout_id=payout.pk, event="failed")
    return payout


def fail_payout(*, payout_id: int, actor: User, reason: str) -> Payout:
    """An org admin reports that payroll could not pay this payout."""
    payout = Payout.objects.select_related("batch").filter(pk=payout_id).first()
    if payout is None:
        raise NotFound("There is no such payout.")
    require_payout_admin(actor, payout.organization_id)
    if payout.batch.provider != ProviderName.PAYROLL:
        raise Conflict(
            "Stripe reports on its own payouts; only payroll payouts are marked by hand.",
            code="not_a_payroll_payout",
        )
    return mark_failed(payout_id=payout_id, actor=actor, reason=reason, code="payroll")


def mark_batch_paid(*, batch_id: int, actor: User) -> list[Payout]:
    """An org admin ran payroll for the batch: every scheduled payout in it is paid."""
    batch = PayoutBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("There is no such payout batch.")
    require_payout_admin(actor, batch.organization_id)
    if batch.provider != ProviderName.PAYROLL:
        raise Conflict(
            "This batch is paid through Stripe, which reports each payout itself.",
            code="not_a_payroll_batch",
        )
    paid = []
    with transaction.atomic():
        for payout_id in (
            batch.payouts.filter(status=S.SCHEDULED).order_by("pk").values_list("pk", flat=True)
        ):
            payout = mark_paid(payout_id=payout_id, actor=actor, provider_reference="payroll")
            if payout.status == S.PAID:
                paid.append(payout)
        audit.record(
            actor=actor,
            action="payout_batch.marked_paid",
            organization_id=batch.organization_id,
            batch_id=batch.pk,
            payouts=[p.pk for p in paid],
        )
    return paid


# -- sending through the provider ----------------------------------------------------------


def send_payout(*, payout_id: int, actor: User | None = None) -> Payout:
    """Send a scheduled payout through its (automatic) provider.

    The provider is called outside any transaction. If it does not answer, the payout stays
    scheduled and the next run calls again with the same idempotency keys, which returns what
    the first call created: a timeout never pays twice.
    """
    payout = Payout.objects.select_related("batch", "tutor").filter(pk=payout_id).first()
    if payout is None:
        raise NotFound("There is no such payout.")
    if payout.status != S.SCHEDULED:
        return payout
    provider = provider_for(payout.batch.provider)
    if not provider.automatic:
        return payout
    account = ConnectedAccount.objects.filter(user_id=payout.tutor_id).first()
    if account is None or not account.payouts_enabled:
        return mark_failed(
            payout_id=payout.pk, actor=actor, reason=NO_BANK_ACCOUNT, code="no_bank_account"
        )
    try:
        sent = provider.send(payout, destination=account.stripe_account_id)
    except ProviderUnavailable as exc:
        audit.record(
            actor=actor,
            action="payout.send_postponed",
            organization_id=payout.organization_id,
            payout_id=payout.pk,
            reason=exc.message,
        )
        return payout
    except ProviderRefused as exc:
        with transaction.atomic():
            if exc.transfer_id:
                Payout.objects.filter(pk=payout.pk, provider_transfer_id="").update(
                    provider_transfer_id=exc.transfer_id
                )
            return mark_failed(payout_id=payout.pk, actor=actor, reason=exc.message, code=exc.code)
    with transaction.atomic():
        locked = _locked(payout.pk)
        if locked.status == S.SCHEDULED:
            _mark_in_transit(locked, sent=sent, actor=actor)
    return locked


def take_back_failed(*, payout_id: int) -> str:
    """Reverse a failed Stripe payout's transfer, so the money the tutor's balance got back is
    not also sitting in their Stripe account. Idempotent."""
    payout = Payout.objects.select_related("batch").get(pk=payout_id)
    if payout.status != S.FAILED or payout.provider_reversal_id or not payout.provider_transfer_id:
        return payout.provider_reversal_id
    reversal_id = provider_for(payout.batch.provider).take_back(payout)
    if reversal_id:
        with transaction.atomic():
            locked = _locked(payout_id)
            if not locked.provider_reversal_id:
                locked.provider_reversal_id = reversal_id
                locked.save(update_fields=["provider_reversal_id"])
                audit.record(
                    actor=None,
                    action="payout.taken_back",
                    organization_id=locked.organization_id,
                    payout_id=locked.pk,
                    provider_reference=reversal_id,
                )
    return reversal_id


# -- the periodic job ----------------------------------------------------------------------


@dataclass
class RunSummary:
    batches_built: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    postponed: list[int] = field(default_factory=list)
    taken_back: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def run_payouts(*, now: datetime | None = None) -> RunSummary:
    """Everything the payout schedule needs, safe to run at any time and any number of times:
    build each organization's batch for its last finished week, send the Stripe payouts that
    are due (and those that timed out before), and take back failed Stripe transfers."""
    now = now or timezone.now()
    summary = RunSummary()
    # Each organization's last finished week, and only those still without a batch are built
    # (two reads, however many organizations; `build_batch` checks again under its claim).
    weeks = {
        organization.pk: last_finished_week(now, organization.zone)
        for organization in Organization.objects.only("pk", "time_zone").order_by("pk")
    }
    built = set(
        PayoutBatch.objects.filter(week_start__in=set(weeks.values())).values_list(
            "organization_id", "week_start"
        )
    )
    for organization_id, week in weeks.items():
        if (organization_id, week) in built:
            continue
        result = build_batch(organization_id=organization_id, week_start=week, actor=None, now=now)
        if result.created:
            summary.batches_built.append(result.batch.pk)
    # Only payouts whose date has come somewhere on Earth are read (no zone is more than 14 h
    # ahead of UTC); each one's own zone then decides.
    due = (
        Payout.objects.filter(
            status=S.SCHEDULED,
            batch__provider=ProviderName.STRIPE,
            batch__payout_date__lte=(now + timedelta(hours=14)).date(),
        )
        .select_related("batch", "organization")
        .order_by("pk")
    )
    for payout in due:
        if payout.batch.payout_date > now.astimezone(payout.organization.zone).date():
            continue
        try:
            result_payout = send_payout(payout_id=payout.pk)
        except ProviderUnavailable:
            summary.postponed.append(payout.pk)
            continue
        if result_payout.status == S.IN_TRANSIT:
            summary.sent.append(payout.pk)
        elif result_payout.status == S.FAILED:
            summary.failed.append(payout.pk)
        else:
            summary.postponed.append(payout.pk)
    to_take_back = Payout.objects.filter(
        status=S.FAILED, provider_reversal_id="", batch__provider=ProviderName.STRIPE
    ).exclude(provider_transfer_id="")
    for payout_id in to_take_back.order_by("pk").values_list("pk", flat=True):
        try:
            if take_back_failed(payout_id=payout_id):
                summary.taken_back.append(payout_id)
        except (ProviderUnavailable, ProviderRefused) as exc:
            logger.warning("Could not take back failed payout %s: %s", payout_id, exc.message)
    return summary


def require_payout_admin(actor: User, organization_id: int) -> None:
    """Org admins manage payouts; other members get 403, everyone else 404."""
    roles = roles_of(actor, organization_id)
    if Role.ADMIN in roles:
        return
    if not roles:
        raise NotFound("There is no such organization.")
    raise Forbidden("Only the organization's admins manage its payouts.")
