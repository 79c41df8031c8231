"""`manage.py check_ledger`: prove the ledger balances, every completed session is paid once
(net of its corrections) from its own program's budget, each program's spend equals its
sessions' pay, and every payout pays exactly its earnings.

Exits non-zero, listing each breach, when anything is off; meant for cron and CI.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from studyhall.ledger.integrity import ledger_breaches
from studyhall.ledger.models import Account, Payout, Transfer
from studyhall.tutoring.integrity import (
    correction_breaches,
    earning_breaches,
    hold_breaches,
    program_breaches,
)
from studyhall.tutoring.models import Completion


class Command(BaseCommand):
    help = (
        "Verify that transfers balance, balances match entries, accounts sum to zero, sessions "
        "are paid once (net of corrections), payouts pay exactly their earnings, and no payout "
        "carries earnings held for the students' confirmation or a dispute."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        breaches = [
            *ledger_breaches(),
            *earning_breaches(),
            *correction_breaches(),
            *program_breaches(),
            *hold_breaches(),
        ]
        if breaches:
            for breach in breaches:
                self.stderr.write(f"BREACH: {breach}")
            raise CommandError(f"The ledger check found {len(breaches)} breach(es).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger OK: {Transfer.objects.count()} transfers, {Account.objects.count()} "
                f"accounts, {Completion.objects.count()} completed sessions each paid once, "
                f"{Payout.objects.count()} payouts each matching their earnings."
            )
        )
