"""Checks between sessions and the ledger: every completed session is paid exactly once, the
right amount, and no other session is paid at all."""

from __future__ import annotations

from django.db.models import Count, Q

from studyhall.core.money import earnings_cents
from studyhall.ledger.models import TransferKind
from studyhall.tutoring.models import Completion, Session, Status


def earning_breaches() -> list[str]:
    problems: list[str] = []
    counted = Session.objects.annotate(
        earnings=Count("transfers", filter=Q(transfers__kind=TransferKind.EARNING))
    )
    completed_not_once = (
        counted.filter(status=Status.COMPLETED).exclude(earnings=1).values_list("id", "earnings")
    )
    problems.extend(
        f"completed session {session_id} has {earnings} earning transfers instead of one"
        for session_id, earnings in completed_not_once
    )
    paid_but_open = (
        counted.exclude(status=Status.COMPLETED)
        .filter(earnings__gt=0)
        .values_list("id", "status", "earnings")
    )
    problems.extend(
        f"session {session_id} is {status} but has {earnings} earning transfer(s)"
        for session_id, status, earnings in paid_but_open
    )
    for (
        completion_id,
        session_id,
        earning_session_id,
        minutes,
        rate,
        amount,
    ) in Completion.objects.values_list(
        "id",
        "session_id",
        "earning__session_id",
        "minutes",
        "hourly_rate_cents",
        "earning__amount_cents",
    ):
        if earning_session_id != session_id:
            problems.append(
                f"completion {completion_id} of session {session_id} points at the earning of "
                f"session {earning_session_id}"
            )
        expected = earnings_cents(hourly_rate_cents=rate, minutes=minutes)
        if amount != expected:
            problems.append(
                f"session {session_id} was paid {amount} cents; {minutes} min at {rate}/h is "
                f"{expected}"
            )
    orphans = Session.objects.filter(status=Status.COMPLETED, completion__isnull=True)
    problems.extend(
        f"completed session {session_id} has no completion record"
        for session_id in orphans.values_list("id", flat=True)
    )
    return problems
