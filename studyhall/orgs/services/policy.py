"""The organization's policy settings. Each change is validated with a message naming the
setting, audited with its before and after, and applies to what happens next: completions
keep the rate they were paid at, and sessions already booked keep their bookings."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import InvalidInput
from studyhall.core.money import CURRENCY_CHOICES, format_cents
from studyhall.orgs.models import (
    MIN_HOURLY_RATE_CENTS,
    SESSION_LENGTHS,
    Organization,
    PayoutProvider,
    SignupPolicy,
)
from studyhall.orgs.services.access import admin_organization, require_transaction

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_DOMAINS = 20


@dataclass(frozen=True)
class Bounds:
    label: str
    low: int
    high: int
    unit: str


# The integer settings and the range each may take (the database checks the same ranges).
INTEGER_SETTINGS: dict[str, Bounds] = {
    "grace_hours": Bounds("Grace period", 1, 24 * 30, "hours"),
    "min_recap_chars": Bounds("Minimum recap length", 1, 5000, "characters"),
    "default_hourly_rate_cents": Bounds(
        "Default hourly rate", MIN_HOURLY_RATE_CENTS, 10**7, "cents"
    ),
    "min_hourly_rate_cents": Bounds("Lowest hourly rate", MIN_HOURLY_RATE_CENTS, 10**7, "cents"),
    "max_hourly_rate_cents": Bounds("Highest hourly rate", MIN_HOURLY_RATE_CENTS, 10**7, "cents"),
    "max_group_size": Bounds("Group size", 1, 50, "students"),
    "max_session_minutes": Bounds("Longest session", 5, 90, "minutes"),
    "student_weekly_minutes_per_course": Bounds(
        "Student minutes per course per week", 5, 7 * 24 * 60, "minutes"
    ),
    "tutor_weekly_minutes": Bounds("Tutor minutes per week", 5, 7 * 24 * 60, "minutes"),
    "pair_sessions_per_day": Bounds("Sessions per tutor and student per day", 1, 24, "sessions"),
    "payout_delay_days": Bounds("Payout delay", 0, 60, "days"),
    "min_payout_cents": Bounds("Minimum payout", 1, 10**8, "cents"),
    "classroom_closes_minutes": Bounds("Classroom closes after the end", 0, 24 * 60, "minutes"),
    "auto_confirm_hours": Bounds("Silence confirms after", 1, 24 * 30, "hours"),
    "recap_similarity_percent": Bounds("Recap similarity that counts as a copy", 50, 100, "%"),
    "tutor_no_show_minutes": Bounds("Tutor no-show wait", 1, 120, "minutes"),
    "no_show_warning_threshold": Bounds("No-shows that bring a warning", 0, 50, "no-shows"),
    "no_show_suspension_threshold": Bounds("No-shows that suspend booking", 0, 50, "no-shows"),
}
CHOICE_SETTINGS: dict[str, tuple[str, list[str]]] = {
    "payout_provider": ("Payout provider", list(PayoutProvider.values)),
    "signup_policy": ("Who may sign up", list(SignupPolicy.values)),
    "currency": ("Currency", [code for code, _ in CURRENCY_CHOICES]),
    "recap_check": ("Recap check", ["refuse", "flag", "off"]),
}
BOOLEAN_SETTINGS = {"confirmations_required": "Students confirm sessions"}
# Money settings that may be empty (no such amount), in cents when given.
OPTIONAL_CENTS_SETTINGS = {
    "state_1099_threshold_cents": Bounds("State 1099 threshold", 1, 10**9, "cents")
}
POLICY_FIELDS = [
    *INTEGER_SETTINGS,
    *CHOICE_SETTINGS,
    *BOOLEAN_SETTINGS,
    *OPTIONAL_CENTS_SETTINGS,
    "time_zone",
    "signup_email_domains",
]


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_policy", field=field)


def clean_domains(raw: list[str] | str) -> list[str]:
    items = raw.replace(",", " ").split() if isinstance(raw, str) else raw
    domains: list[str] = []
    for item in items:
        domain = item.strip().lower().lstrip("@")
        if not DOMAIN.match(domain):
            raise _invalid(
                "signup_email_domains", f"{item!r} is not an email domain (like college.edu)."
            )
        if domain not in domains:
            domains.append(domain)
    if len(domains) > MAX_DOMAINS:
        raise _invalid("signup_email_domains", f"List at most {MAX_DOMAINS} domains.")
    return domains


def _clean(organization: Organization, field: str, value: Any) -> Any:
    if field in BOOLEAN_SETTINGS:
        if not isinstance(value, bool):
            raise _invalid(field, f"{BOOLEAN_SETTINGS[field]} must be true or false.")
        return value
    if field in OPTIONAL_CENTS_SETTINGS and value is None:
        return None
    if field in INTEGER_SETTINGS or field in OPTIONAL_CENTS_SETTINGS:
        bounds = INTEGER_SETTINGS.get(field) or OPTIONAL_CENTS_SETTINGS[field]
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(field, f"{bounds.label} must be a whole number.")
        if not bounds.low <= value <= bounds.high:
            if bounds.unit == "cents":
                span = (
                    f"between {format_cents(bounds.low, organization.currency)} and "
                    f"{format_cents(bounds.high, organization.currency)}"
                )
            elif bounds.unit == "%":
                span = f"between {bounds.low}% and {bounds.high}%"
            else:
                span = f"between {bounds.low} and {bounds.high} {bounds.unit}"
            raise _invalid(field, f"{bounds.label} must be {span}.")
        if field == "max_session_minutes" and value not in SESSION_LENGTHS:
            raise _invalid(field, "The longest session must be a multiple of 5 minutes.")
        return value
    if field in CHOICE_SETTINGS:
        label, allowed = CHOICE_SETTINGS[field]
        if value not in allowed:
            raise _invalid(field, f"{label} must be one of: {', '.join(allowed)}.")
        return value
    if field == "time_zone":
        if not isinstance(value, str) or value not in zoneinfo.available_timezones():
            raise _invalid(field, f"{value!r} is not a known time zone (try America/New_York).")
        return value
    if field == "signup_email_domains":
        if not isinstance(value, list | str):
            raise _invalid(field, "Give the email domains as a list.")
        return clean_domains(value)
    raise _invalid(field, f"{field!r} is not a policy setting.")


def update_policy(
    *, organization_id: int, actor: User, changes: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """Apply the changed settings; returns {setting: (before, after)} for those that changed."""
    require_transaction()
    organization = admin_organization(actor, organization_id, lock=True)
    cleaned = {field: _clean(organization, field, value) for field, value in changes.items()}
    merged = {f: cleaned.get(f, getattr(organization, f)) for f in POLICY_FIELDS}
    low, high = merged["min_hourly_rate_cents"], merged["max_hourly_rate_cents"]
    if low > high:
        raise _invalid(
            "max_hourly_rate_cents", "The highest hourly rate cannot be below the lowest."
        )
    if not low <= merged["default_hourly_rate_cents"] <= high:
        raise _invalid(
            "default_hourly_rate_cents",
            "The default hourly rate must lie between the lowest and the highest rate "
            f"({format_cents(low, merged['currency'])} to "
            f"{format_cents(high, merged['currency'])}).",
        )
    warn_at, suspend_at = (
        merged["no_show_warning_threshold"],
        merged["no_show_suspension_threshold"],
    )
    if warn_at and suspend_at and warn_at >= suspend_at:
        raise _invalid(
            "no_show_warning_threshold",
            f"The warning must come before the suspension: warn at fewer than {suspend_at} "
            "no-shows, or turn one of them off with 0.",
        )
    if merged["signup_policy"] == SignupPolicy.DOMAINS and not merged["signup_email_domains"]:
        raise _invalid(
            "signup_email_domains", "Name at least one email domain, or allow invited people only."
        )
    changed = {
        f: (getattr(organization, f), v)
        for f, v in cleaned.items()
        if getattr(organization, f) != v
    }
    if not changed:
        return {}
    for field, (_, after) in changed.items():
        setattr(organization, field, after)
    organization.save(update_fields=list(changed))
    audit.record(
        actor=actor,
        action="policy.changed",
        organization_id=organization.pk,
        changes={f: {"before": b, "after": a} for f, (b, a) in changed.items()},
    )
    return changed
