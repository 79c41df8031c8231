"""Checks between sessions and the ledger: every completed session is paid exactly once, the
right amount, and no other session is paid at all; corrections change that pay only by their
own transfers, so each session nets to at most one earning (zero once voided)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, F, Q, Sum

from studyhall.core.money import earnings_cents
from studyhall.ledger.models import Account, AccountKind, Entry, TransferKind
from studyhall.tutoring.models import (
    Completion,
    Correction,
    CorrectionKind,
    EarningHold,
    HeldMove,
    HeldMoveKind,
    HoldState,
    Session,
    Status,
)

SESSION_PAY_KINDS = (TransferKind.EARNING, TransferKind.REVERSAL, TransferKind.ADJUSTMENT)


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


def correction_breaches() -> list[str]:
    """Each correction starts where the previous one (or the completion) left off, moves
    exactly the difference, and each session's pay nets to rate × its current minutes."""
    problems: list[str] = []
    completions = {
        c.session_id: c
        for c in Completion.objects.only("session_id", "minutes", "hourly_rate_cents")
    }
    chains: dict[int, list[Correction]] = defaultdict(list)
    for correction in Correction.objects.select_related("transfer").order_by("created_at", "id"):
        chains[correction.session_id].append(correction)
    for session_id, chain in chains.items():
        completion = completions.get(session_id)
        if completion is None:
            problems.append(f"session {session_id} has corrections but was never completed")
            continue
        minutes = completion.minutes
        for position, c in enumerate(chain):
            rate = completion.hourly_rate_cents
            if c.minutes_before != minutes or c.hourly_rate_cents != rate:
                problems.append(
                    f"correction {c.pk} of session {session_id} starts from {c.minutes_before} "
                    f"min at {c.hourly_rate_cents}/h, but the session stood at {minutes} min at "
                    f"{rate}/h"
                )
            if position < len(chain) - 1 and c.kind == CorrectionKind.VOID:
                problems.append(f"session {session_id} was corrected again after being voided")
            before = earnings_cents(hourly_rate_cents=rate, minutes=c.minutes_before)
            after = earnings_cents(hourly_rate_cents=rate, minutes=c.minutes_after)
            if (c.amount_before_cents, c.amount_after_cents) != (before, after):
                problems.append(
                    f"correction {c.pk} of session {session_id} records {c.amount_before_cents} → "
                    f"{c.amount_after_cents}; the minutes say {before} → {after}"
                )
            if (
                c.transfer.amount_cents != abs(after - before)
                or c.transfer.session_id != session_id
            ):
                problems.append(
                    f"correction {c.pk} of session {session_id} moved {c.transfer.amount_cents} "
                    f"instead of {abs(after - before)}"
                )
            minutes = c.minutes_after
    net = dict(
        Entry.objects.filter(
            account__kind=AccountKind.TUTOR_EARNINGS,
            transfer__kind__in=SESSION_PAY_KINDS,
            transfer__session__isnull=False,
        )
        .values("transfer__session_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("transfer__session_id", "total")
    )
    for session_id, completion in completions.items():
        chain = chains.get(session_id, [])
        minutes = chain[-1].minutes_after if chain else completion.minutes
        expected = earnings_cents(hourly_rate_cents=completion.hourly_rate_cents, minutes=minutes)
        if net.get(session_id, 0) != expected:
            problems.append(
                f"session {session_id} nets {net.get(session_id, 0)} to its tutor; {minutes} min "
                f"at {completion.hourly_rate_cents}/h is {expected}"
            )
    problems.extend(
        f"session {session_id} was never completed but nets {total} to a tutor"
        for session_id, total in net.items()
        if session_id not in completions and total != 0
    )
    return problems


def program_breaches() -> list[str]:
    """Each program's account holds only the pay of its own sessions, its spend equals what
    those sessions pay their tutors, and a session's pay never draws on another budget."""
    problems: list[str] = []
    strays = Entry.objects.filter(account__kind=AccountKind.PROGRAM_BUDGET).exclude(
        transfer__kind__in=SESSION_PAY_KINDS,
        transfer__session__program_id=F("account__program_id"),
    )
    problems.extend(
        f"entry {entry_id} on the account of program {program_id} belongs to transfer "
        f"{transfer_id} ({kind}), which is not the pay of one of its sessions"
        for entry_id, program_id, transfer_id, kind in strays.values_list(
            "id", "account__program_id", "transfer_id", "transfer__kind"
        )
    )
    misplaced = Account.objects.filter(kind=AccountKind.PROGRAM_BUDGET).exclude(
        organization_id=F("program__organization_id")
    )
    problems.extend(
        f"account {account_id} of program {program_id} belongs to another organization"
        for account_id, program_id in misplaced.values_list("id", "program_id")
    )
    elsewhere = (
        Entry.objects.filter(
            transfer__kind__in=SESSION_PAY_KINDS,
            transfer__session__program__isnull=False,
        )
        .exclude(account__kind=AccountKind.TUTOR_EARNINGS)
        .exclude(account__program_id=F("transfer__session__program_id"))
    )
    problems.extend(
        f"transfer {transfer_id} pays session {session_id} of program {program_id} from "
        f"account {account_id}, not the program's own"
        for transfer_id, session_id, program_id, account_id in elsewhere.values_list(
            "transfer_id", "transfer__session_id", "transfer__session__program_id", "account_id"
        )
    )
    spent = {
        program_id: -int(total or 0)
        for program_id, total in Entry.objects.filter(account__kind=AccountKind.PROGRAM_BUDGET)
        .values("account__program_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("account__program_id", "total")
    }
    paid = {
        program_id: int(total or 0)
        for program_id, total in Entry.objects.filter(
            account__kind=AccountKind.TUTOR_EARNINGS,
            transfer__kind__in=SESSION_PAY_KINDS,
            transfer__session__program__isnull=False,
        )
        .values("transfer__session__program_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("transfer__session__program_id", "total")
    }
    problems.extend(
        f"program {program_id} spent {spent.get(program_id, 0)} but its sessions pay their "
        f"tutors {paid.get(program_id, 0)}"
        for program_id in sorted(spent.keys() | paid.keys())
        if spent.get(program_id, 0) != paid.get(program_id, 0)
    )
    return problems


PAY_AND_HOLD_KINDS = (TransferKind.EARNING, TransferKind.HOLD, TransferKind.RELEASE)


def hold_breaches() -> list[str]:
    """Held earnings: each session's held money is what its holds and releases say, matches
    its state (all of the earning while pending, the disputed pay while disputed, nothing once
    released), and no payout ever carried held money — a hold is in the same payout as the
    earning it holds, and what payouts took of a session's earning never exceeds what was
    released of it."""
    problems: list[str] = []
    held_on_accounts: dict[int, int] = defaultdict(int)
    for session_id, amount in Entry.objects.filter(
        account__kind=AccountKind.TUTOR_HELD, transfer__session__isnull=False
    ).values_list("transfer__session_id", "amount_cents"):
        held_on_accounts[session_id] += amount
    moved: dict[int, int] = defaultdict(int)
    for move in HeldMove.objects.select_related("transfer"):
        sign = 1 if move.kind == HeldMoveKind.HOLD else -1
        moved[move.session_id] += sign * move.amount_cents
        expected_kind = TransferKind.HOLD if sign == 1 else TransferKind.RELEASE
        if move.transfer.kind != expected_kind or move.transfer.amount_cents != move.amount_cents:
            problems.append(
                f"held move {move.pk} of session {move.session_id} ({move.kind}, "
                f"{move.amount_cents}) is recorded by a {move.transfer.kind} of "
                f"{move.transfer.amount_cents}"
            )
    for session_id in set(held_on_accounts) | set(moved):
        if held_on_accounts[session_id] != moved[session_id]:
            problems.append(
                f"session {session_id} holds {held_on_accounts[session_id]} in held earnings, "
                f"but its holds and releases say {moved[session_id]}"
            )
        if moved[session_id] < 0:
            problems.append(f"session {session_id} released more than it held")
    earnings = dict(Completion.objects.values_list("session_id", "earning__amount_cents"))
    for hold in EarningHold.objects.all():
        held = moved.get(hold.session_id, 0)
        expected = {
            HoldState.PENDING: earnings.get(hold.session_id, 0),
            HoldState.DISPUTED: hold.disputed_cents,
            HoldState.RELEASED: 0,
        }[HoldState(hold.state)]
        if held != expected:
            problems.append(
                f"session {hold.session_id} is {hold.state} but holds {held} (expected {expected})"
            )
    payout_of: dict[int, dict[str, set[int | None]]] = defaultdict(lambda: defaultdict(set))
    paid: dict[int, int] = defaultdict(int)
    released: dict[int, int] = defaultdict(int)
    for session_id, kind, amount, payout_id in Entry.objects.filter(
        account__kind=AccountKind.TUTOR_EARNINGS,
        transfer__kind__in=PAY_AND_HOLD_KINDS,
        transfer__session__isnull=False,
    ).values_list(
        "transfer__session_id",
        "transfer__kind",
        "amount_cents",
        "transfer__payout_item__payout_id",
    ):
        payout_of[session_id][kind].add(payout_id)
        released[session_id] += amount
        if payout_id is not None:
            paid[session_id] += amount
    for session_id, kinds in payout_of.items():
        if TransferKind.HOLD in kinds and kinds[TransferKind.HOLD] != kinds[TransferKind.EARNING]:
            problems.append(
                f"session {session_id}'s hold is not in the payout of the earning it holds"
            )
        if paid[session_id] > released[session_id]:
            problems.append(
                f"payouts carried {paid[session_id]} of session {session_id}'s earning, but only "
                f"{released[session_id]} of it was released"
            )
    return problems
