"""Counting no-shows, and who is suspended from booking because of them (ADR 17).

A student's no-show is a `Participant.no_show` on a session that was not canceled; a tutor's
is a session missed as a tutor no-show. Each is counted in the term that covers today (the
organization's `Term`s) or, when no term does, in the last 120 days, by the session's
scheduled start in the organization's time zone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q

from studyhall.accounts.models import User
from studyhall.core.errors import RuleViolation
from studyhall.orgs.models import Organization, Term
from studyhall.tutoring.models import (
    BookingSuspension,
    MissedReason,
    NoShowRole,
    Participant,
    Session,
    Status,
)

# When no term covers today, no-shows count over this many days up to today.
FALLBACK_DAYS = 120


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    name: str  # "Fall 2026", or "the last 120 days"
    is_term: bool

    def bounds(self, organization: Organization) -> tuple[datetime, datetime]:
        """The period as datetimes: from its first local midnight to the one after its end."""
        zone = organization.zone
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )

    @property
    def label(self) -> str:
        return self.name if self.is_term else "the last 120 days"


def counting_period(organization: Organization, *, today: date) -> Period:
    term = (
        Term.objects.filter(organization=organization, start__lte=today, end__gte=today)
        .order_by("-start", "pk")
        .first()
    )
    if term is not None:
        return Period(term.start, term.end, term.name, is_term=True)
    return Period(
        today - timedelta(days=FALLBACK_DAYS - 1), today, "the last 120 days", is_term=False
    )


def local_today(organization: Organization, now: datetime) -> date:
    return now.astimezone(organization.zone).date()


def no_shows_of(organization: Organization, user_id: int, *, role: str, period: Period) -> int:
    start, end = period.bounds(organization)
    if role == NoShowRole.STUDENT:
        return (
            Participant.objects.filter(
                user_id=user_id,
                no_show=True,
                session__organization=organization,
                session__scheduled_start__gte=start,
                session__scheduled_start__lt=end,
            )
            .exclude(session__status=Status.CANCELED)
            .count()
        )
    return Session.objects.filter(
        organization=organization,
        tutor_id=user_id,
        status=Status.MISSED,
        missed_reason=MissedReason.TUTOR_NO_SHOW,
        scheduled_start__gte=start,
        scheduled_start__lt=end,
    ).count()


@dataclass(frozen=True)
class Standing:
    """A person's no-shows in the current period and their standing suspensions."""

    period: Period
    as_student: int
    as_tutor: int
    suspensions: list[BookingSuspension]
    warning_threshold: int
    suspension_threshold: int

    @property
    def suspended_roles(self) -> set[str]:
        return {s.role for s in self.suspensions}


def standing_of(organization: Organization, user: User, *, now: datetime) -> Standing:
    period = counting_period(organization, today=local_today(organization, now))
    return Standing(
        period=period,
        as_student=no_shows_of(organization, user.pk, role=NoShowRole.STUDENT, period=period),
        as_tutor=no_shows_of(organization, user.pk, role=NoShowRole.TUTOR, period=period),
        suspensions=list(
            BookingSuspension.objects.filter(
                organization=organization, user=user, lifted_at__isnull=True
            ).order_by("role")
        ),
        warning_threshold=organization.no_show_warning_threshold,
        suspension_threshold=organization.no_show_suspension_threshold,
    )


def standing_suspensions(
    organization: Organization, user_ids: Iterable[int], *, role: str
) -> list[BookingSuspension]:
    return list(
        BookingSuspension.objects.filter(
            organization=organization,
            user_id__in=set(user_ids),
            role=role,
            lifted_at__isnull=True,
        )
        .select_related("user")
        .order_by("user_id")
    )


def suspension_refusal(
    organization_id: int,
    *,
    tutor_id: int | None,
    student_ids: Collection[int],
    actor: User,
) -> RuleViolation | None:
    """Whether a standing suspension stops this booking: a suspended tutor cannot be booked
    or invite, a suspended student cannot request or accept. One query."""
    clauses = []
    if tutor_id is not None:
        clauses.append((NoShowRole.TUTOR, {tutor_id}))
    if student_ids:
        clauses.append((NoShowRole.STUDENT, set(student_ids)))
    if not clauses:
        return None
    q = Q()
    for role, ids in clauses:
        q |= Q(role=role, user_id__in=ids)
    suspension = (
        BookingSuspension.objects.filter(q, organization_id=organization_id, lifted_at__isnull=True)
        .select_related("user")
        .order_by("role", "user_id")
        .first()
    )
    if suspension is None:
        return None
    return RuleViolation(
        suspension_message(suspension, actor=actor),
        code="booking_suspended",
        user_id=suspension.user_id,
        role=suspension.role,
    )


def suspension_message(suspension: BookingSuspension, *, actor: User) -> str:
    counted = (
        f"{suspension.no_shows} no-show{'s' if suspension.no_shows != 1 else ''} in "
        f"{suspension.period_name}"
    )
    if suspension.user_id == actor.pk:
        as_what = "tutor" if suspension.role == NoShowRole.TUTOR else "student"
        return (
            f"Your booking as a {as_what} is suspended after {counted}. An org admin can "
            "lift the suspension."
        )
    if suspension.role == NoShowRole.TUTOR:
        return (
            f"{suspension.user.display_name} cannot be booked as a tutor: their booking is "
            f"suspended after {counted}."
        )
    return (
        f"{suspension.user.display_name} cannot book sessions: their booking is suspended "
        f"after {counted}."
    )


def suspensions_of(user: User) -> list[BookingSuspension]:
    """The person's standing suspensions in every organization (for their own pages)."""
    return list(
        BookingSuspension.objects.filter(user=user, lifted_at__isnull=True)
        .select_related("organization")
        .order_by("organization_id", "role")
    )
