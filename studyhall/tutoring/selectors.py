"""Reads for the Sessions tab, the session page and the API: a fixed number of queries each,
however many sessions there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError
from studyhall.orgs.models import Membership, Organization, Role
from studyhall.tutoring import lifecycle
from studyhall.tutoring.eligibility import completion_refusal
from studyhall.tutoring.models import Participant, Session, Status
from studyhall.tutoring.rules import (
    completable_from,
    completion_deadline,
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
    from studyhall.orgs.models import Membership, Role

    return frozenset(
        Membership.objects.filter(user=user, role=Role.ADMIN).values_list(
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


def is_tutor_anywhere(user: User) -> bool:
    return Membership.objects.filter(user=user, role=Role.TUTOR).exists()


def tutoring_currencies(user: User) -> list[str]:
    """The currencies of the organizations where the user tutors (for a zero balance)."""
    return sorted(
        set(
            Organization.objects.filter(
                memberships__user=user, memberships__role=Role.TUTOR
            ).values_list("currency", flat=True)
        )
    )
