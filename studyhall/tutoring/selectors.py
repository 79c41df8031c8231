"""Reads for the Sessions tab, the session page and the API: a fixed number of queries each,
however many sessions there are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError
from studyhall.orgs.models import Membership, Role
from studyhall.tutoring import lifecycle
from studyhall.tutoring.call_presence import call_presence
from studyhall.tutoring.eligibility import completion_refusal
from studyhall.tutoring.models import (
    Completion,
    Participant,
    ParticipantState,
    ProposalState,
    Rating,
    Session,
    Status,
    TimeProposal,
)
from studyhall.tutoring.rules import (
    completable_from,
    completion_deadline,
    duration_label,
    measured_label,
    round_up_to_choice,
)

# The needs-completion tab is for what a tutor still has to log.
NEEDS_COMPLETION_STATUSES = (*lifecycle.COMPLETABLE, Status.REQUESTED)


_PARTICIPANTS = Prefetch("participants", queryset=Participant.objects.select_related("user"))


def with_details(queryset: QuerySet[Session]) -> QuerySet[Session]:
    return queryset.select_related(
        "organization", "course", "tutor", "completion", "canceled_by"
    ).prefetch_related(_PARTICIPANTS)


def with_open_proposal(queryset: QuerySet[Session]) -> QuerySet[Session]:
    """Each session's open new-time proposal, as the status it had before it was proposed
    (`proposed_over`; None without one): a Scheduled session whose time is being moved is
    still shown as Scheduled, with the proposal beside it. Part of the same query."""
    open_one = TimeProposal.objects.filter(session=OuterRef("pk"), state=ProposalState.OPEN)
    return queryset.annotate(proposed_over=Subquery(open_one.values("previous_status")[:1]))


def deadline_of(session: Session) -> datetime:
    return completion_deadline(
        scheduled_end=session.scheduled_end,
        call_ended_at=session.call_ended_at,
        grace_hours=session.organization.grace_hours,
        classroom_closes_at=session.classroom_closes_at,
    )


_MINUTE = Value(timedelta(minutes=1), output_field=DurationField())
_HOUR = Value(timedelta(hours=1), output_field=DurationField())


def _times(field: str, unit: Value) -> Expression:
    # A plain integer (the fields are positive integers, which SQLite's duration arithmetic
    # does not take as such), times the unit.
    count = ExpressionWrapper(F(field), output_field=IntegerField())
    return ExpressionWrapper(count * unit, output_field=DurationField())


def ended_expression() -> Expression:
    """When the session counts as ended for logging (rule 8, as `completion_deadline` works it
    out, less the grace hours), as an annotation on sessions: the scheduled end, or a later
    end of the call up to the classroom's closing time."""
    scheduled_end = ExpressionWrapper(
        F("scheduled_start") + _times("planned_minutes", _MINUTE), output_field=DateTimeField()
    )
    closes = ExpressionWrapper(
        scheduled_end + _times("organization__classroom_closes_minutes", _MINUTE),
        output_field=DateTimeField(),
    )
    return Case(
        When(
            call_ended_at__gt=scheduled_end,
            then=Least(F("call_ended_at"), Greatest(closes, scheduled_end)),
        ),
        default=scheduled_end,
        output_field=DateTimeField(),
    )


def deadline_expression() -> Expression:
    """`deadline_of` as an annotation on sessions: the grace hours after `ended_expression`."""
    return ExpressionWrapper(
        ended_expression() + _times("organization__grace_hours", _HOUR),
        output_field=DateTimeField(),
    )


def opens_at(session: Session) -> datetime:
    return completable_from(
        scheduled_start=session.scheduled_start, call_started_at=session.call_started_at
    )


def sessions_of(user: User) -> QuerySet[Session]:
    """Every session the user tutors or is a participant of (any participant state).

    `tutor = user OR EXISTS (their participant row)`: no join that multiplies rows, so no
    DISTINCT, and both sides are index lookups (sessions by tutor and start; participants by
    user and session)."""
    taking_part = Participant.objects.filter(session=OuterRef("pk"), user=user)
    return with_open_proposal(
        with_details(Session.objects.filter(Q(tutor=user) | Exists(taking_part)))
    )


def _said_no(user: User) -> Exists:
    """The user declined the session (or was taken off it): it is not coming up for them."""
    return Exists(
        Participant.objects.filter(
            session=OuterRef("pk"),
            user=user,
            state__in=(ParticipantState.DECLINED, ParticipantState.REMOVED),
        )
    )


def _started(now: datetime) -> Q:
    return Q(scheduled_start__lte=now) | Q(call_started_at__lte=now)


# Rows per section of the Sessions tab (and per "Show more" page).
SECTION_ROWS = 20
SECTIONS = ("needs_completion", "upcoming", "past")


@dataclass(frozen=True)
class SessionsTab:
    needs_completion: list[Session]
    upcoming: list[Session]
    past: list[Session]
    # Per section, the next page's number when there is more to show.
    more: dict[str, int | None] = field(default_factory=dict)


def section_query(user: User, section: str, *, now: datetime) -> QuerySet[Session]:
    """One section of the Sessions tab, in its order: Needs completion (the tutor's started,
    unlogged sessions, oldest first), Upcoming (not started, soonest first), Past (started
    and not the tutor's to log, or over, or declined by the user; newest first)."""
    mine_to_log = Q(tutor=user, status__in=NEEDS_COMPLETION_STATUSES)
    sessions = sessions_of(user).prefetch_related(None)
    if section == "needs_completion":
        return sessions.filter(mine_to_log & _started(now)).order_by("scheduled_start", "id")
    if section == "upcoming":
        return (
            sessions.exclude(status__in=lifecycle.TERMINAL)
            .exclude(_started(now))
            .exclude(_said_no(user))
            .order_by("scheduled_start", "id")
        )
    if section == "past":
        over = Q(status__in=lifecycle.TERMINAL) | Q(_said_no(user))
        return sessions.filter(over | (_started(now) & ~mine_to_log)).order_by(
            "-scheduled_start", "-id"
        )
    raise ValueError(f"unknown section {section!r}")


def section_page(
    user: User,
    section: str,
    *,
    now: datetime,
    page: int = 1,
    rows: int = SECTION_ROWS,
    prefetch: bool = True,
) -> tuple[list[Session], int | None]:
    """One page of a section (participants prefetched unless the caller does it for several
    pages at once), and the next page's number if there is more."""
    start = (max(page, 1) - 1) * rows
    found = list(section_query(user, section, now=now)[start : start + rows + 1])
    shown = found[:rows]
    if prefetch:
        prefetch_related_objects(shown, _PARTICIPANTS)
    if section == "needs_completion":
        # Nearest deadline first within the page (a call that ran late moves its deadline).
        shown.sort(key=deadline_of)
    return shown, (page + 1 if len(found) > rows else None)


def sessions_tab(
    user: User, *, now: datetime | None = None, rows: int = SECTION_ROWS
) -> SessionsTab:
    """The first page of each section: a bounded number of queries and rows, however long
    the user's history."""
    now = now or timezone.now()
    pages = {
        section: section_page(user, section, now=now, rows=rows, prefetch=False)
        for section in SECTIONS
    }
    # One query for the participants of every row shown.
    prefetch_related_objects([s for shown, _ in pages.values() for s in shown], _PARTICIPANTS)
    return SessionsTab(
        needs_completion=pages["needs_completion"][0],
        upcoming=pages["upcoming"][0],
        past=pages["past"][0],
        more={section: nxt for section, (_, nxt) in pages.items()},
    )


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
    qs = sessions_of(user).select_related("completion__earning").prefetch_related("corrections")
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-scheduled_start", "-id")[offset : offset + limit])


def session_detail(session_id: int) -> Session:
    """One session with everything its representation shows. Check access first."""
    return (
        with_details(Session.objects.filter(pk=session_id))
        .select_related("completion__earning")
        .prefetch_related("corrections")
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


def overlog_flag(completion: Completion | None, *, is_online: bool = False) -> str:
    """What the org admin reads when the logged time exceeds the measured time by more than
    the tolerance, or an online session was logged with nothing measured together."""
    if completion is None:
        return ""
    logged = duration_label(completion.minutes)
    if completion.overlogged and completion.measured_seconds:
        return (
            f"Flagged for review: {logged} logged, "
            f"{measured_label(completion.measured_seconds)} measured in the classroom."
        )
    if is_online and not completion.measured_seconds:
        return f"Flagged for review: {logged} logged, nothing measured in the classroom."
    return ""


@dataclass(frozen=True)
class TutorRatings:
    """What a tutor sees of their students' ratings: never who wrote which."""

    count: int
    average: float | None
    reviews: list[str]


def ratings_of_tutor(tutor: User, *, reviews: int = 20) -> TutorRatings:
    students = Rating.objects.filter(session__tutor=tutor, by_tutor=False)
    summary = students.aggregate(count=Count("id"), average=Avg("stars"))
    shown = (
        students.filter(hidden=False)
        .exclude(review="")
        # In no order that could tell who wrote which (not by date).
        .order_by("review", "id")
        .values_list("review", flat=True)[:reviews]
    )
    average = summary["average"]
    return TutorRatings(
        count=int(summary["count"]),
        average=round(float(average), 1) if average is not None else None,
        reviews=list(shown),
    )
