"""An append-only double-entry ledger in whole cents, and the payouts that empty it.

A Transfer is one movement of money; its Entries (one per account touched) sum to zero.
A tutor's and the payout accounts' `balance_cents` is kept in the same transaction as the
entries, so reading such a balance is one row, and `check_ledger` proves it still equals the
sum of the account's entries. A budget account keeps no running balance (its `balance_cents`
stays 0): every completion in an organization posts to it, and a running balance would make
them all wait on that one row's lock. Its balance is the sum of its entries
(`selectors.balance_cents`); see docs/adr/0009-derived-budget-balance.md. On
PostgreSQL a trigger refuses UPDATE and DELETE on transfers and entries (migration 0004).

Money's path to a tutor's bank: the budget of the program that covers the session (or, for
sessions paid before programs existed, the organization's budget) → the tutor's earnings account
(completion) → the organization's pending-payouts account (a weekly Payout is scheduled) →
the paid-out account (the provider paid it), or back to the tutor's earnings (it failed).
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import models

from studyhall.core.money import CURRENCY_CHOICES


class AccountKind(models.TextChoices):
    TUTOR_EARNINGS = "tutor_earnings", "Tutor earnings"
    # A tutor's earnings waiting for the students' confirmation, or held for a dispute: no
    # payout reaches them until they are released back to the tutor's earnings.
    TUTOR_HELD = "tutor_held", "Tutor earnings held until confirmed"
    ORG_BUDGET = "org_budget", "Organization tutoring budget"
    PAYOUTS_PENDING = "payouts_pending", "Payouts scheduled or on their way"
    PAID_OUT = "paid_out", "Paid out to tutors"
    PROGRAM_BUDGET = "program_budget", "Program budget"


ORG_ACCOUNT_KINDS = (AccountKind.ORG_BUDGET, AccountKind.PAYOUTS_PENDING, AccountKind.PAID_OUT)
USER_ACCOUNT_KINDS = (AccountKind.TUTOR_EARNINGS, AccountKind.TUTOR_HELD)
# Accounts whose balance is derived from their entries instead of kept in `balance_cents`:
# those that many concurrent postings touch (each organization's and each program's budget).
DERIVED_BALANCE_KINDS = frozenset({AccountKind.ORG_BUDGET, AccountKind.PROGRAM_BUDGET})


class Account(models.Model):
    kind = models.CharField(max_length=32, choices=AccountKind.choices)
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    # The program whose spending a program-budget account records.
    program = models.ForeignKey(
        "orgs.Program",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    balance_cents = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "organization", "user", "currency"],
                condition=models.Q(user__isnull=False),
                name="one_user_account_per_kind",
            ),
            models.UniqueConstraint(
                fields=["kind", "organization", "currency"],
                condition=models.Q(user__isnull=True, program__isnull=True),
                name="one_org_account_per_kind",
            ),
            models.UniqueConstraint(
                fields=["program", "currency"],
                condition=models.Q(program__isnull=False),
                name="one_account_per_program",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=AccountKind.values), name="account_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=ORG_ACCOUNT_KINDS, user__isnull=True, program__isnull=True
                )
                | models.Q(kind__in=USER_ACCOUNT_KINDS, user__isnull=False, program__isnull=True)
                | models.Q(
                    kind=AccountKind.PROGRAM_BUDGET, user__isnull=True, program__isnull=False
                ),
                name="account_owner_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.user if self.user_id else (self.program or self.organization)
        return f"{self.get_kind_display()} of {owner} ({self.currency})"


class TransferKind(models.TextChoices):
    EARNING = "earning", "Session earning"
    REVERSAL = "reversal", "Reversal"
    ADJUSTMENT = "adjustment", "Adjustment"
    PAYOUT = "payout", "Payout"
    PAYOUT_SETTLED = "payout_settled", "Payout paid"
    PAYOUT_RETURNED = "payout_returned", "Payout returned"
    HOLD = "hold", "Held until confirmed"
    RELEASE = "release", "Released"


# What a tutor earned or had corrected: the postings a weekly payout gathers. A hold is posted
# with the earning it holds (same session, same transaction), so a payout that gathers the
# earning gathers its hold too and carries none of the held money; a release carries it once
# it is free.
PAYABLE_KINDS = (
    TransferKind.EARNING,
    TransferKind.REVERSAL,
    TransferKind.ADJUSTMENT,
    TransferKind.PAYOUT_RETURNED,
    TransferKind.HOLD,
    TransferKind.RELEASE,
)


class Transfer(models.Model):
    kind = models.CharField(max_length=32, choices=TransferKind.choices)
    # Unique across the ledger: a retried write finds the first one instead of paying twice.
    idempotency_key = models.CharField(max_length=128, unique=True)
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="+"
    )
    session = models.ForeignKey(
        "tutoring.Session",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transfers",
    )
    description = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="transfer_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=TransferKind.values), name="transfer_kind_valid"
            ),
            # The last line of defence against paying a session twice.
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(kind="earning"),
                name="one_earning_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_cents} {self.currency}"


class Entry(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount_cents = models.BigIntegerField(help_text="Positive credits the account.")

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_cents=0), name="entry_amount_nonzero"
            ),
            models.UniqueConstraint(fields=["transfer", "account"], name="one_entry_per_account"),
        ]

    def __str__(self) -> str:
        return f"{self.amount_cents:+d} on account {self.account_id}"


class PayoutStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_TRANSIT = "in_transit", "In transit"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"


class ProviderName(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    PAYROLL = "payroll", "Payroll"


class PayoutBatch(models.Model):
    """One organization's payouts for one week (Monday–Sunday in its time zone). Built once,
    in one transaction, so that a payroll export of it never changes."""

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="payout_batches"
    )
    week_start = models.DateField(help_text="The Monday the week began (organization's zone).")
    payout_date = models.DateField()
    provider = models.CharField(max_length=16, choices=ProviderName.choices)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-week_start", "-id"]
        verbose_name_plural = "payout batches"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "week_start"], name="one_payout_batch_per_org_week"
            ),
            models.CheckConstraint(
                condition=models.Q(provider__in=ProviderName.values),
                name="payout_batch_provider_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Payouts of {self.organization} for the week of {self.week_start}"

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


class Payout(models.Model):
    """One tutor's money for one week, sent as one payment.

    `status` is the latest of its `events` (an append-only history); only the payout services
    change it, under a row lock, through the moves in `payouts.ALLOWED_MOVES`.
    """

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="payouts")
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="+"
    )
    tutor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts"
    )
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    minutes = models.IntegerField(help_text="The tutoring time it pays for, net of corrections.")
    status = models.CharField(
        max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.SCHEDULED
    )
    # The tutor's earnings account → pending payouts, written when the payout was scheduled.
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="payout")
    # Set once each, by the provider's answers.
    provider_transfer_id = models.CharField(max_length=255, blank=True)
    provider_payout_id = models.CharField(max_length=255, blank=True)
    provider_reversal_id = models.CharField(max_length=255, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-batch__week_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "tutor"], name="one_payout_per_tutor_week"),
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="payout_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PayoutStatus.values), name="payout_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Payout {self.pk} to {self.tutor}: {self.amount_cents} {self.currency}"


class PayoutItem(models.Model):
    """A posting on the tutor's earnings account that this payout pays out. The unique
    transfer is what keeps an earning in at most one payout."""

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="items")
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="payout_item")
    amount_cents = models.BigIntegerField(help_text="Signed, as posted on the tutor's account.")
    minutes = models.IntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.amount_cents:+d} of transfer {self.transfer_id} in payout {self.payout_id}"


class PayoutEvent(models.Model):
    """Each move of a payout, in order; never updated. A move that moved money names its
    transfer."""

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="events")
    status = models.CharField(max_length=16, choices=PayoutStatus.choices)
    transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="payout_event"
    )
    reason = models.CharField(max_length=500, blank=True)
    provider_reference = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PayoutStatus.values),
                name="payout_event_status_valid",
            ),
            # A payout reaches each state at most once: a replayed webhook cannot pay twice.
            models.UniqueConstraint(
                fields=["payout", "status"], name="one_payout_event_per_status"
            ),
        ]

    def __str__(self) -> str:
        return f"Payout {self.payout_id} → {self.status}"


class ConnectedAccount(models.Model):
    """A tutor's Stripe Connect (Express) account. Stripe keeps the bank details; this row only
    remembers the account id and what Stripe last said about it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="connected_account"
    )
    stripe_account_id = models.CharField(max_length=255, unique=True)
    details_submitted = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    requirements_due = models.JSONField(default=list, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.stripe_account_id} of {self.user}"


class WebhookEvent(models.Model):
    """Provider events already handled: a redelivered event is acknowledged, not replayed."""

    provider = models.CharField(max_length=16, choices=ProviderName.choices)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="one_webhook_event_row")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"
