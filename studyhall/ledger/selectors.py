"""Reads of the ledger: balances, the tutor's history and payouts, and the org admin's batches.

The history explains each amount with the completion or correction behind it; those rows live
in `tutoring` and are reached through their relations to the transfer they paid.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Min, Prefetch, QuerySet, Sum
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.money import Money, format_cents
from studyhall.ledger.models import (
    DERIVED_BALANCE_KINDS,
    PAYABLE_KINDS,
    Account,
    AccountKind,
    Entry,
    Payout,
    PayoutBatch,
    PayoutEvent,
    PayoutStatus,
    ProviderName,
    Transfer,
    TransferKind,
)
from studyhall.ledger.taxes import TaxFlag, hours_label, pays_through_payroll, tax_flags
from studyhall.ledger.weeks import last_finished_week, payout_date_for, week_start_of
from studyhall.orgs.models import Membership, Organization, Role

EARNED_KINDS = (TransferKind.EARNING, TransferKind.REVERSAL, TransferKind.ADJUSTMENT)


def balance_cents(account: Account) -> int:
    """The account's balance: its kept balance, or for a budget the sum of its entries."""
    if account.kind not in DERIVED_BALANCE_KINDS:
        return account.balance_cents
    total = Entry.objects.filter(account=account).aggregate(total=Sum("amount_cents"))["total"]
    return int(total or 0)


def balances_of(user: User) -> list[Money]:
    """The tutor's earnings balance per currency, over all their organizations."""
    rows = (
        user.ledger_accounts.filter(kind=AccountKind.TUTOR_EARNINGS)
        .values("currency")
        .annotate(total=Sum("balance_cents"))
        .order_by("currency")
    )
    return [Money(int(row["total"] or 0), row["currency"]) for row in rows]


def earning_entries_of(
    user: User,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    organization_id: int | None = None,
) -> QuerySet[Entry]:
    """Every posting on the user's earnings accounts (in one organization, if given), newest
    first, with what explains it: the session, the completion or correction, the payout an
    earning went into, and for a payout posting the payout itself. One query."""
    entries = Entry.objects.filter(account__user=user, account__kind=AccountKind.TUTOR_EARNINGS)
    if organization_id is not None:
        entries = entries.filter(account__organization_id=organization_id)
    entries = entries.select_related(
        "transfer",
        "transfer__session",
        "transfer__session__course",
        "transfer__completion",
        "transfer__correction",
        "transfer__payout_item__payout__batch",
        "transfer__payout__batch",
        "transfer__payout_event__payout__batch",
        # The earning's confirmation by its students (a reverse one-to-one from tutoring).
        "transfer__session__hold",
    )
    if since is not None:
        entries = entries.filter(transfer__created_at__gte=since)
    if until is not None:
        entries = entries.filter(transfer__created_at__lt=until)
    return entries.order_by("-transfer__created_at", "-transfer_id")


def day_range(
    since: date | None, until: date | None, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """Calendar days in the viewer's zone → [start of `since`, end of `until`)."""
    start = datetime.combine(since, time.min, tzinfo=zone) if since else None
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone) if until else None
    return start, end


def _related(obj: object, name: str) -> Any:
    """A reverse one-to-one loaded by select_related, or None where there is none."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


@dataclass(frozen=True)
class HistoryRow:
    """One line of the Transaction history, with everything a tutor needs to trust it."""

    transfer: Transfer
    amount: Money
    # How the amount was computed, e.g. "55 min × $15.00/h = $13.75".
    computation: str
    # For earnings and corrections: the payout that paid (or will pay) it.
    payout: Payout | None
    # For a payout line or a returned payout: the payout it is.
    own_payout: Payout | None
    minutes: int | None
    hourly_rate_cents: int | None
    # For an earning its students confirm: "Pending confirmation", "Held for a dispute:
    # $5.00" or "Confirmed"; empty otherwise.
    state: str = ""
    pending: bool = False

    @property
    def kind_label(self) -> str:
        return TransferKind(self.transfer.kind).label


def history_row(entry: Entry) -> HistoryRow:
    transfer = entry.transfer
    currency = transfer.currency
    computation = ""
    minutes: int | None = None
    rate: int | None = None
    completion = _related(transfer, "completion")
    correction = _related(transfer, "correction")
    if completion is not None:
        minutes, rate = completion.minutes, completion.hourly_rate_cents
        computation = (
            f"{minutes} min × {format_cents(rate, currency)}/h = "
            f"{format_cents(transfer.amount_cents, currency)}"
        )
    elif correction is not None:
        rate = correction.hourly_rate_cents
        minutes = correction.minutes_after - correction.minutes_before
        computation = (
            f"{correction.minutes_after} min × {format_cents(rate, currency)}/h = "
            f"{format_cents(correction.amount_after_cents, currency)}, was "
            f"{correction.minutes_before} min = "
            f"{format_cents(correction.amount_before_cents, currency)}"
        )
    item = _related(transfer, "payout_item")
    own = _related(transfer, "payout")
    if own is None:
        event = _related(transfer, "payout_event")
        own = event.payout if event is not None else None
    return HistoryRow(
        transfer=transfer,
        amount=Money(entry.amount_cents, currency),
        computation=computation,
        payout=item.payout if item is not None else None,
        own_payout=own,
        minutes=minutes,
        hourly_rate_cents=rate,
    )


def history_of(
    user: User, *, since: datetime | None = None, until: datetime | None = None
) -> list[HistoryRow]:
    rows = [history_row(e) for e in earning_entries_of(user, since=since, until=until)]
    held = {
        row.transfer.session_id: hold
        for row in rows
        if row.transfer.kind == TransferKind.EARNING
        and (hold := _related(row.transfer.session, "hold")) is not None
    }
    if not held:
        return rows
    # A confirmed earning leaves in the payout of its release: one query for all of them.
    released_in: dict[int, Payout] = {}
    for release in (
        Transfer.objects.filter(session_id__in=held, kind=TransferKind.RELEASE)
        .select_related("payout_item__payout__batch")
        .order_by("created_at", "id")
    ):
        item = _related(release, "payout_item")
        if item is not None and release.session_id is not None:
            released_in.setdefault(release.session_id, item.payout)
    return [
        _with_state(row, held[row.transfer.session_id], released_in)
        if row.transfer.kind == TransferKind.EARNING and row.transfer.session_id in held
        else row
        for row in rows
    ]


def _with_state(row: HistoryRow, hold: Any, released_in: dict[int, Payout]) -> HistoryRow:
    if hold.state == "pending":
        state = "Pending confirmation"
    elif hold.state == "disputed":
        held = format_cents(hold.disputed_cents, row.transfer.currency)
        state = f"Held for a dispute: {held}"
    else:
        state = "Confirmed"
    return replace(
        row,
        state=state,
        pending=hold.state == "pending",
        payout=released_in.get(row.transfer.session_id or 0),
    )


def payouts_of(user: User) -> QuerySet[Payout]:
    return (
        Payout.objects.filter(tutor=user)
        .select_related("batch", "organization")
        .prefetch_related(Prefetch("events", queryset=PayoutEvent.objects.order_by("id")))
        .order_by("-batch__week_start", "-id")
    )


@dataclass(frozen=True)
class YearSummary:
    year: int
    organization: Organization
    earned: Money
    paid: Money
    # The tutoring time the year's paid payouts paid for.
    paid_minutes: int = 0

    @property
    def payroll(self) -> bool:
        return pays_through_payroll(self.organization)

    @property
    def paid_hours(self) -> str:
        return hours_label(self.paid_minutes)

    @property
    def tax_flags(self) -> list[TaxFlag]:
        return tax_flags(self.organization, self.year, self.paid)

    @property
    def needs_tax_form(self) -> bool:
        return bool(self.tax_flags)


def yearly_summary(user: User) -> list[YearSummary]:
    """Per year and organization: what the tutor earned (net of corrections, by the date
    it was posted, on the organization's clock) and what was paid to them (by payout date)."""
    organizations = {o.pk: o for o in Organization.objects.filter(ledger_accounts__user=user)}
    earned: dict[tuple[int, int], int] = defaultdict(int)
    rows = Entry.objects.filter(
        account__user=user,
        account__kind=AccountKind.TUTOR_EARNINGS,
        transfer__kind__in=EARNED_KINDS,
    ).values_list("account__organization_id", "transfer__created_at", "amount_cents")
    for org_id, created_at, amount in rows:
        year = created_at.astimezone(organizations[org_id].zone).year
        earned[(year, org_id)] += amount
    paid: dict[tuple[int, int], int] = defaultdict(int)
    paid_minutes: dict[tuple[int, int], int] = defaultdict(int)
    for org_id, payout_date, amount, minutes in Payout.objects.filter(
        tutor=user, status=PayoutStatus.PAID
    ).values_list("organization_id", "batch__payout_date", "amount_cents", "minutes"):
        paid[(payout_date.year, org_id)] += amount
        paid_minutes[(payout_date.year, org_id)] += minutes
    keys = sorted(set(earned) | set(paid), key=lambda k: (-k[0], organizations[k[1]].name))
    return [
        YearSummary(
            year=year,
            organization=organizations[org_id],
            earned=Money(earned.get((year, org_id), 0), organizations[org_id].currency),
            paid=Money(paid.get((year, org_id), 0), organizations[org_id].currency),
            paid_minutes=paid_minutes.get((year, org_id), 0),
        )
        for year, org_id in keys
    ]


@dataclass(frozen=True)
class NextPayout:
    """What the tutor can expect from one organization."""

    organization: Organization
    # Already scheduled (or on its way), soonest first.
    upcoming: list[Payout]
    # Earned but not in any payout yet, and when it should go out.
    unscheduled: Money
    unscheduled_date: date | None
    below_minimum: bool


def next_payouts(user: User, *, now: datetime | None = None) -> list[NextPayout]:
    now = now or timezone.now()
    organizations = list(
        Organization.objects.filter(memberships__user=user, memberships__role=Role.TUTOR).distinct()
    )
    organizations += [
        o
        for o in Organization.objects.filter(ledger_accounts__user=user).distinct()
        if o not in organizations
    ]
    upcoming: dict[int, list[Payout]] = defaultdict(list)
    for payout in (
        Payout.objects.filter(
            tutor=user, status__in=[PayoutStatus.SCHEDULED, PayoutStatus.IN_TRANSIT]
        )
        .select_related("batch")
        .order_by("batch__payout_date", "id")
    ):
        upcoming[payout.organization_id].append(payout)
    unpaid = {
        row["account__organization_id"]: row
        for row in Entry.objects.filter(
            account__user=user,
            account__kind=AccountKind.TUTOR_EARNINGS,
            transfer__kind__in=PAYABLE_KINDS,
            transfer__payout_item__isnull=True,
        )
        .values("account__organization_id")
        .annotate(total=Sum("amount_cents"), oldest=Min("transfer__created_at"))
    }
    # Ordered by week, so each organization keeps its latest.
    latest_batch = dict(
        PayoutBatch.objects.filter(organization__in=organizations)
        .order_by("organization_id", "week_start")
        .values_list("organization_id", "week_start")
    )
    result = []
    for organization in organizations:
        row = unpaid.get(organization.pk)
        total = int(row["total"]) if row else 0
        when = None
        if row and total > 0:
            zone = organization.zone
            week = max(week_start_of(row["oldest"], zone), last_finished_week(now, zone))
            built = latest_batch.get(organization.pk)
            if built is not None and week <= built:
                week = built + timedelta(days=7)
            when = payout_date_for(week, delay_days=organization.payout_delay_days)
        result.append(
            NextPayout(
                organization=organization,
                upcoming=upcoming.get(organization.pk, []),
                unscheduled=Money(total, organization.currency),
                unscheduled_date=when,
                below_minimum=0 < total < organization.min_payout_cents,
            )
        )
    return result


# -- org admin -----------------------------------------------------------------------------


def admin_organizations(user: User) -> list[Organization]:
    return list(
        Organization.objects.filter(memberships__user=user, memberships__role=Role.ADMIN)
        .distinct()
        .order_by("name")
    )


def batches_of(organization: Organization) -> QuerySet[PayoutBatch]:
    return (
        PayoutBatch.objects.filter(organization=organization)
        .annotate(payout_count=Count("payouts"), total_cents=Sum("payouts__amount_cents"))
        .order_by("-week_start")
    )


@dataclass(frozen=True)
class BatchLine:
    payout: Payout
    employee_id: str


def batch_lines(batch: PayoutBatch) -> list[BatchLine]:
    """The batch's payouts with each tutor's payroll employee id, by tutor name."""
    payouts = list(
        batch.payouts.select_related("tutor").order_by("tutor__name", "tutor__email", "id")
    )
    employee_ids = dict(
        Membership.objects.filter(
            organization_id=batch.organization_id,
            role=Role.TUTOR,
            user_id__in=[p.tutor_id for p in payouts],
        ).values_list("user_id", "employee_id")
    )
    return [BatchLine(p, employee_ids.get(p.tutor_id, "")) for p in payouts]


@dataclass(frozen=True)
class PayrollRow:
    """One paid piece of a payroll line: a session's earning, or one side of a correction."""

    line: BatchLine
    session_id: int | None
    what: str
    minutes: int
    hourly_rate_cents: int
    amount_cents: int


def payroll_rows(batch: PayoutBatch) -> list[PayrollRow]:
    """Each payout of the batch as the sessions it pays, so that each row's minutes × rate is
    its amount. A failed payout returned to the balance and paid again is shown as what it
    paid in the first place."""
    rows: list[PayrollRow] = []
    for line in batch_lines(batch):
        rows.extend(
            PayrollRow(line, session_id, what, minutes, rate, amount)
            for session_id, what, minutes, rate, amount in _paid_pieces(line.payout)
        )
    return rows


def _paid_pieces(payout: Payout) -> list[tuple[int | None, str, int, int, int]]:
    items = payout.items.select_related(
        "transfer__completion",
        "transfer__correction",
        "transfer__payout_event__payout",
    ).order_by("transfer__created_at", "id")
    pieces: list[tuple[int | None, str, int, int, int]] = []
    for item in items:
        transfer = item.transfer
        completion = _related(transfer, "completion")
        correction = _related(transfer, "correction")
        event = _related(transfer, "payout_event")
        if completion is not None:
            pieces.append(
                (
                    transfer.session_id,
                    "earning",
                    completion.minutes,
                    completion.hourly_rate_cents,
                    transfer.amount_cents,
                )
            )
        elif correction is not None:
            rate = correction.hourly_rate_cents
            pieces.append(
                (
                    transfer.session_id,
                    "correction: taken back",
                    -correction.minutes_before,
                    rate,
                    -correction.amount_before_cents,
                )
            )
            if correction.minutes_after:
                pieces.append(
                    (
                        transfer.session_id,
                        "correction: paid as corrected",
                        correction.minutes_after,
                        rate,
                        correction.amount_after_cents,
                    )
                )
        elif event is not None:
            pieces.extend(
                (session_id, f"{what} (returned payout {event.payout_id})", m, rate, amount)
                for session_id, what, m, rate, amount in _paid_pieces(event.payout)
            )
        else:  # not a kind a payout gathers today; kept so that the total stays whole
            pieces.append((transfer.session_id, transfer.kind, item.minutes, 0, item.amount_cents))
    return pieces


@dataclass(frozen=True)
class TutorYear:
    tutor: User
    employee_id: str
    earned: Money
    paid: Money
    paid_minutes: int
    tax_flags: list[TaxFlag]

    @property
    def paid_hours(self) -> str:
        return hours_label(self.paid_minutes)

    @property
    def needs_tax_form(self) -> bool:
        return bool(self.tax_flags)


def tutor_year_totals(organization: Organization, year: int) -> list[TutorYear]:
    """Each tutor's earnings (net of corrections) and payouts in one calendar year, with the
    tax forms the payments call for."""
    zone = organization.zone
    start = datetime(year, 1, 1, tzinfo=zone)
    end = datetime(year + 1, 1, 1, tzinfo=zone)
    earned = dict(
        Entry.objects.filter(
            account__organization=organization,
            account__kind=AccountKind.TUTOR_EARNINGS,
            transfer__kind__in=EARNED_KINDS,
            transfer__created_at__gte=start,
            transfer__created_at__lt=end,
        )
        .values("account__user_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("account__user_id", "total")
    )
    paid_rows = (
        Payout.objects.filter(
            organization=organization, status=PayoutStatus.PAID, batch__payout_date__year=year
        )
        .values("tutor_id")
        .annotate(total=Sum("amount_cents"), minutes=Sum("minutes"))
        .values_list("tutor_id", "total", "minutes")
    )
    paid = {tutor_id: (int(total), int(minutes)) for tutor_id, total, minutes in paid_rows}
    ids = set(earned) | set(paid)
    employee_ids = dict(
        Membership.objects.filter(
            organization=organization, role=Role.TUTOR, user_id__in=ids
        ).values_list("user_id", "employee_id")
    )
    currency = organization.currency
    rows = []
    for tutor in User.objects.filter(pk__in=ids).order_by("name", "email"):
        paid_cents, paid_minutes = paid.get(tutor.pk, (0, 0))
        paid_money = Money(paid_cents, currency)
        rows.append(
            TutorYear(
                tutor=tutor,
                employee_id=employee_ids.get(tutor.pk, ""),
                earned=Money(int(earned.get(tutor.pk, 0)), currency),
                paid=paid_money,
                paid_minutes=paid_minutes,
                tax_flags=tax_flags(organization, year, paid_money),
            )
        )
    return rows


def is_stripe(organization: Organization) -> bool:
    return organization.payout_provider == ProviderName.STRIPE
