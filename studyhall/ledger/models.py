"""An append-only double-entry ledger in whole cents.

A Transfer is one movement of money; its Entries (one per account touched) sum to zero.
Account.balance_cents is kept in the same transaction as the entries, so reading a balance is
one row, and `check_ledger` proves it still equals the sum of the account's entries.
"""

from django.conf import settings
from django.db import models

from studyhall.core.money import CURRENCY_CHOICES


class AccountKind(models.TextChoices):
    TUTOR_EARNINGS = "tutor_earnings", "Tutor earnings"
    ORG_BUDGET = "org_budget", "Organization tutoring budget"


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
                condition=models.Q(user__isnull=True),
                name="one_org_account_per_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=AccountKind.values), name="account_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind=AccountKind.ORG_BUDGET, user__isnull=True)
                | models.Q(kind=AccountKind.TUTOR_EARNINGS, user__isnull=False),
                name="account_owner_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.user if self.user_id else self.organization
        return f"{self.get_kind_display()} of {owner} ({self.currency})"


class TransferKind(models.TextChoices):
    EARNING = "earning", "Session earning"
    REVERSAL = "reversal", "Reversal"
    ADJUSTMENT = "adjustment", "Adjustment"


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
