from django.db.models import QuerySet, Sum

from studyhall.accounts.models import User
from studyhall.core.money import Money
from studyhall.ledger.models import AccountKind, Entry


def balances_of(user: User) -> list[Money]:
    """The tutor's earnings balance per currency, over all their organizations."""
    rows = (
        user.ledger_accounts.filter(kind=AccountKind.TUTOR_EARNINGS)
        .values("currency")
        .annotate(total=Sum("balance_cents"))
        .order_by("currency")
    )
    return [Money(int(row["total"] or 0), row["currency"]) for row in rows]


def earning_entries_of(user: User) -> QuerySet[Entry]:
    """Every posting on the user's earnings accounts, newest first, with what explains it."""
    return (
        Entry.objects.filter(account__user=user, account__kind=AccountKind.TUTOR_EARNINGS)
        .select_related("transfer", "transfer__session", "transfer__session__course")
        .order_by("-transfer__created_at", "-transfer_id")
    )
