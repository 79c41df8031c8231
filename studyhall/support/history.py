"""A session's history in words: who did what, when and why, from its audit entries.

The audit log stores facts for programs (ids, cents, codes); this turns each entry into a line
for people. An action it does not know still shows, named after its code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.models import AuditEntry
from studyhall.core.money import format_cents
from studyhall.support.access import access_history
from studyhall.tutoring.models import Session, Status
from studyhall.tutoring.permissions import session_permissions
from studyhall.tutoring.rules import duration_label

# Entries whose reason is Support's internal note (session_permissions: see_internal_notes).
INTERNAL_REASONS = frozenset(
    {
        "session.completion_voided",
        "session.completion_adjusted",
        "support.correction_proposed",
        "support.correction_approved",
        "support.correction_rejected",
    }
)


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    who: str
    by_support: bool
    what: str
    why: str
    action: str


@dataclass(frozen=True)
class SessionHistory:
    session: Session
    lines: list[HistoryLine]


def session_history(viewer: User, session_id: object) -> SessionHistory:
    """The session's history, for its tutor, its organization's admins and Support (404
    outside the organization, 403 for its other members)."""
    session = access_history(viewer, session_id)
    entries = list(
        AuditEntry.objects.filter(session=session)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    mentioned = {
        entry.data["user_id"]
        for entry in entries
        if isinstance(entry.data, dict) and isinstance(entry.data.get("user_id"), int)
    }
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=mentioned)}
    currency = session.organization.currency
    internal = session_permissions(viewer, session).see_internal_notes
    return SessionHistory(
        session=session, lines=[_line(entry, names, currency, internal) for entry in entries]
    )


def _line(
    entry: AuditEntry, names: Mapping[int, str], currency: str, internal: bool
) -> HistoryLine:
    data: dict[str, Any] = entry.data if isinstance(entry.data, dict) else {}
    describe = DESCRIBERS.get(entry.action)
    what = describe(data, names, currency) if describe else _fallback(entry.action)
    why = data.get("reason") or data.get("message") or ""
    if entry.action in INTERNAL_REASONS and not internal:
        why = ""
    actor = entry.actor
    return HistoryLine(
        at=entry.created_at,
        who=actor.display_name if actor else "Studyhall",
        by_support=bool(actor and actor.is_support_agent),
        what=what,
        why=str(why),
        action=entry.action,
    )


def _fallback(action: str) -> str:
    words = action.split(".", 1)[-1].replace("_", " ")
    return words[:1].upper() + words[1:]


def _money(cents: object, currency: str) -> str:
    return format_cents(cents, currency) if isinstance(cents, int) else ""


def _minutes(value: object) -> str:
    return duration_label(value) if isinstance(value, int) and value > 0 else "?"


def _completed(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    paid = _money(data.get("earnings_cents"), data.get("currency") or currency)
    return f"Completed the session: {_minutes(data.get('minutes'))} logged, {paid} earned"


def _completed_by_support(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    paid = _money(data.get("earnings_cents"), data.get("currency") or currency)
    return (
        f"Completed the session on the tutor's behalf: {_minutes(data.get('minutes'))} logged, "
        f"{paid} earned"
    )


def _removed(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    who = names.get(data.get("user_id") or 0, "a student")
    return f"Removed {who} from the session"


def _call_status(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    labels = dict(Status.choices)
    before = labels.get(data.get("previous") or "", data.get("previous") or "?")
    after = labels.get(data.get("status") or "", data.get("status") or "?")
    return f"The classroom moved the session from {before} to {after}"


def _late_log_requested(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    return f"Asked Support to log the session ({_minutes(data.get('minutes'))})"


def _late_log_approved(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    return (
        f"Approved the request to log the session: {_minutes(data.get('minutes'))}, "
        f"{_money(data.get('earnings_cents'), currency)} paid"
    )


def _correction_proposed(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    if data.get("kind") == "void":
        return "Proposed voiding the completion (waiting for a second agent)"
    return (
        f"Proposed changing the logged time from {_minutes(data.get('logged_minutes'))} to "
        f"{_minutes(data.get('minutes'))} (waiting for a second agent)"
    )


def _correction_approved(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    if data.get("kind") == "void":
        return "Approved voiding the completion; the earning was reversed"
    return f"Approved changing the logged time to {_minutes(data.get('minutes'))}"


def _voided(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    back = _money(abs(data.get("difference_cents") or 0), data.get("currency") or currency)
    return f"Voided the completion: {back} taken back from the tutor"


def _adjusted(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    difference = data.get("difference_cents")
    change = ""
    if isinstance(difference, int):
        change = f" ({_money(difference, data.get('currency') or currency)})"
    return (
        f"Changed the paid time from {_minutes(data.get('minutes_before'))} to "
        f"{_minutes(data.get('minutes_after'))}{change}"
    )


def _moment(value: object) -> str:
    """An ISO time from the audit data, in the viewer's zone (active while the page renders)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    local = timezone.localtime(moment)
    return f"{local:%a, %b} {local.day}, {local:%I:%M %p}".replace(" 0", " ") + f" {local.tzname()}"


def _time_proposed(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    return f"Proposed a new time: {_moment(data.get('scheduled_start'))}"


def _rescheduled(data: dict[str, Any], names: Mapping[int, str], currency: str) -> str:
    return f"Moved the session to {_moment(data.get('scheduled_start'))}"


def _fixed(text: str) -> Callable[[dict[str, Any], Mapping[int, str], str], str]:
    return lambda data, names, currency: text


DESCRIBERS: dict[str, Callable[[dict[str, Any], Mapping[int, str], str], str]] = {
    "session.created": _fixed("Created the session"),
    "session.accepted": _fixed("Accepted"),
    "session.declined": _fixed("Declined"),
    "session.withdrew": _fixed("Left the session"),
    "session.canceled": _fixed("Canceled the session"),
    "session.participant_removed": _removed,
    "session.call_status": _call_status,
    "session.completed": _completed,
    "session.completed_by_support": _completed_by_support,
    "session.completion_voided": _voided,
    "session.completion_adjusted": _adjusted,
    "session.time_proposed": _time_proposed,
    "session.time_accepted": _fixed("Accepted the new time"),
    "session.time_declined": _fixed("Declined the new time"),
    "session.time_expired": _fixed("The proposed new time lapsed unanswered"),
    "session.rescheduled": _rescheduled,
    "session.missed": _fixed("Marked the session missed"),
    "support.late_log_requested": _late_log_requested,
    "support.late_log_approved": _late_log_approved,
    "support.late_log_declined": _fixed("Declined the request to log the session"),
    "support.correction_proposed": _correction_proposed,
    "support.correction_approved": _correction_approved,
    "support.correction_rejected": _fixed("Rejected the proposed correction"),
}
