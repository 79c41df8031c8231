"""Reads for the Sessions tab, the session page and the API: a fixed number of queries each,
however many sessions there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError
from studyhall.orgs.models import Membership, Role
from studyhall.tutoring import lifecycle
from studyhall.tutoring.call_presence import call_presence
from studyhall.tutoring.eligibility import completion_refusal
from studyhall.tutoring.models import Completion, Participant, Session, Status
from studyhall.tutoring.rules import (
    completable_from,
    completion_deadline,
    duration_label,
    round_up_to_choice,
)

# The needs-completion tab is for what a tutor still has to log.
NEEDS_COMPLETION_STATUSES = (*lifecycle.COMPLETABLE, Status.REQUESTED)


def with_details(queryset: QuerySet[Session]) -> QuerySet[Session]:
    return queryset.select_related(
        "organization", "course", "tutor", "completion", "canceled_by"
    ).prefetch_related(
        Prefetch("participants", queryset=Participant.objects.select_related("user"))
    )


def sessions_of(user: User) -> QuerySet[Session]:
    """Every session the user tutors or is a participant of (any participant state)."""
    return with_details(
        Session.objects.filter(Q(tutor=user) | Q(participants__user=user)).distinct()
    )


def deadline_of(session: Session) -> datetime:
    return completion_deadline(
        scheduled_end=session.scheduled_end,
        call_ended_at=session.call_ended_at,
        grace_hours=session.organization.grace_hours,
        classroom_closes_at=session.classroom_closes_at,
    )


def opens_at(session: Session) -> datetime:
    return completable_from(
        scheduled_start=session.scheduled_start, call_started_at=session.call_started_at
    )


@dataclass(frozen=True)
class SessionsTab:
    needs_completion: list[Session]
    upcoming: list[Session]
    past: list[Session]


def sessions_tab(user: User, *, now: datetime | None = None, past_limit: int = 50) -> SessionsTab:
    """Needs completion (the tutor's started, unlogged sessions, nearest deadline first),
    Upcoming (soonest first) and Past (newest first, the latest `past_limit`)."""
    now = now or timezone.now()
    needs: list[Session] = []
    upcoming: list[Session] = []
    past: list[Session] = []
    open_sessions = sessions_of(user).exclude(status__in=lifecycle.TERMINAL)
    for session in open_sessions.order_by("scheduled_start", "id"):
        started = opens_at(session) <= now
        if not started:
            upcoming.append(session)
        elif session.tutor_id == user.pk and session.status in NEEDS_COMPLETION_STATUSES:
            needs.append(session)
        else:
            past.append(session)
    ended = sessions_of(user).filter(status__in=lifecycle.TERMINAL)
    past.extend(ended.order_by("-scheduled_start", "-id")[:past_limit])
    needs.sort(key=deadline_of)
    past.sort(key=lambda s: s.scheduled_start, reverse=True)
    return SessionsTab(needs_completion=needs, upcoming=upcoming, past=past[:past_limit])


def session_list(
    user: User, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[Session]:
    qs = sessions_of(user)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-scheduled_start", "-id")[offset : offset + limit])


# -- for the JSON API ----------------------------------------------------------------------


def session_page(
    user: User, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> list[Session]:
    """Like `session_list`, with each completion's earning transfer joined in the same query,
    so showing earnings does not cost a query per completed session."""
    qs = sessions_of(user).select_related("completion__earning")
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-scheduled_start", "-id")[offset : offset + limit])


def session_detail(session_id: int) -> Session:
    """One session with everything its representation shows. Check access first."""
    return (
        with_details(Session.objects.filter(pk=session_id))
        .select_related("completion__earning")
        .get()
    )


def admin_organization_ids(user: User) -> frozenset[int]:
    """The organizations the user administers (whose sessions' earnings they may see)."""

    return frozenset(
        Membership.objects.filter(user=user, role=Role.ADMIN, is_active=True).values_list(
            "organization_id", flat=True
        )
    )


# -- For the pages: can the viewer complete the session now, and if not, why ------------------


def completion_blocker(
    session: Session, viewer: User, *, now: datetime | None = None
) -> DomainError | None:
    """What stops `viewer` completing `session` now (as the completion service would say it),
    or None. Pass a session from `with_details`, whose participants are prefetched."""
    return completion_refusal(
        session=session,
        participants=list(session.participants.all()),
        actor=viewer,
        now=now or timezone.now(),
    )


# -- The classroom's measured time, for the completion forms and the review flag --------------


def measured_label(seconds: float) -> str:
    """Whole minutes as the pages write durations ('38 min', '1 h 5 min'); under half a
    minute is 'less than a minute' rather than '0 min'."""
    minutes = round(seconds / 60)
    return duration_label(minutes) if minutes else "less than a minute"


@dataclass(frozen=True)
class TimeSuggestion:
    measured_seconds: float
    minutes: int

    @property
    def hint(self) -> str:
        """'Measured in the classroom: 38 min together — suggested 40 min.'"""
        return (
            f"Measured in the classroom: {measured_label(self.measured_seconds)} together — "
            f"suggested {duration_label(self.minutes)}."
        )


def time_suggestion(session: Session) -> TimeSuggestion | None:
    """Rule 6: for an online session, the time the tutor and a student were in the call
    together, rounded up to the next listed duration (capped at 90); None if nothing was
    measured."""
    if not session.is_online:
        return None
    seconds = call_presence().measured_seconds(session.pk)
    if not seconds or seconds <= 0:
        return None
    return TimeSuggestion(measured_seconds=seconds, minutes=round_up_to_choice(seconds / 60))


def overlog_flag(completion: Completion | None) -> str:
    """What the org admin reads when the logged time exceeds the measured time by more than
    the tolerance."""
    if completion is None or not completion.overlogged or completion.measured_seconds is None:
        return ""
    return (
        f"Flagged for review: {duration_label(completion.minutes)} logged, "
        f"{measured_label(completion.measured_seconds)} measured in the classroom."
    )
