"""Reads for the Sessions tab, the session page and the API: a fixed number of queries each,
however many sessions there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.orgs.models import Membership, Organization, Role
from studyhall.tutoring import lifecycle
from studyhall.tutoring.models import Participant, ParticipantState, Session, Status
from studyhall.tutoring.presence import call_presence
from studyhall.tutoring.rules import (
    completable_from,
    completion_deadline,
    describe_span,
    duration_label,
)
from studyhall.tutoring.services.completion import NOT_COMPLETABLE_MESSAGES
from studyhall.tutoring.text import names, when

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


@dataclass(frozen=True)
class CompletionBlocker:
    """Why a session cannot be completed right now. `code` is the completion service's error
    code for the same refusal, and `message` its words."""

    code: str
    message: str


def completion_blocker(
    session: Session, viewer: User, *, now: datetime | None = None
) -> CompletionBlocker | None:
    """The first refusal the completion service would give `viewer` for `session` now (before
    it looks at the time and recap they have yet to enter), or None when they may complete it.

    It follows the service's checks in the same order and with the same words, so the page
    says what a submission would answer; the service stays the authority. Participants are
    read through `session.participants.all()`: pass a session from `with_details`.
    """
    now = now or timezone.now()
    is_tutor = session.tutor_id == viewer.pk
    if not is_tutor and not viewer.is_support_agent:
        return CompletionBlocker("forbidden", "Only the session's tutor can complete it.")
    if session.status == Status.COMPLETED:
        completion = getattr(session, "completion", None)
        logged = f" ({duration_label(completion.minutes)} logged)" if completion else ""
        return CompletionBlocker(
            "already_completed", f"This session has already been completed{logged}."
        )
    if session.status not in lifecycle.COMPLETABLE:
        return CompletionBlocker(
            "session_not_completable",
            NOT_COMPLETABLE_MESSAGES.get(
                Status(session.status), "This session cannot be completed in its current state."
            ),
        )
    opens = opens_at(session)
    if now < opens:
        return CompletionBlocker(
            "session_not_started",
            f"This session starts {when(opens, viewer.zone)}; you can complete it from then.",
        )
    deadline = deadline_of(session)
    # A support agent logging on the tutor's behalf is not bound by the grace period.
    if now > deadline and is_tutor:
        return CompletionBlocker(
            "grace_period_expired",
            f"Logging closed {describe_span(now - deadline)} ago: the "
            f"{session.organization.grace_hours}-hour grace period ended "
            f"{when(deadline, viewer.zone)}. Ask Support to log this session for you.",
        )
    participants = list(session.participants.all())
    pending = [p.user for p in participants if p.state == ParticipantState.INVITED]
    if pending:
        verb = "has" if len(pending) == 1 else "have"
        return CompletionBlocker(
            "participants_not_accepted",
            f"{names(pending)} {verb} not accepted the invitation yet. If they did not come, "
            "remove them from the session, then complete it.",
        )
    if not any(p.state == ParticipantState.ACCEPTED for p in participants):
        return CompletionBlocker(
            "no_participants",
            "No student remains on this session, so there is no one to log it for. "
            "Cancel it instead.",
        )
    present = call_presence().user_ids_in_call(session.pk) - {session.tutor_id}
    if present:
        still_in = [p.user for p in participants if p.user_id in present]
        label = names(still_in) if still_in else f"{len(present)} participant(s)"
        verb = "is" if len(present) == 1 else "are"
        return CompletionBlocker(
            "participants_in_call",
            f"{label} {verb} still in the call. Complete the session once everyone has left, "
            "or use “Log time & leave call” in the classroom.",
        )
    return None


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
