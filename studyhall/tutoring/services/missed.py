"""Missed sessions: marked by a periodic job when nobody agreed to meet in time, or when the
tutor of an online session had not joined its classroom N minutes after the start while a
student waited there (a tutor no-show, ADR 17); reported by the tutor when nobody came, or
decided by an org admin on a student's report that the tutor did not come. A missed session is
over; nobody can log it, so the tutor is not paid for it. The reason is kept on the session.

The job (`tutoring.tasks.mark_missed_sessions`) is idempotent: each session is re-checked
under its lock, and one that is no longer due is left alone, so two runs mark it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden
from studyhall.tutoring import lifecycle
from studyhall.tutoring.access import access_session
from studyhall.tutoring.call_presence import call_presence
from studyhall.tutoring.models import (
    OPEN_STATUSES,
    MissedReason,
    Mode,
    NoShowRole,
    Participant,
    ParticipantState,
    ProposalState,
    Session,
    Status,
    TimeProposal,
)
from studyhall.tutoring.rules import completable_from, completion_deadline
from studyhall.tutoring.services import consequences, no_show_notices, proposals
from studyhall.tutoring.services.notify import after_commit_session_event

# Why a session was marked missed (kept on the session and in its audit entry).
NO_STUDENT_ACCEPTED = MissedReason.NO_STUDENT_ACCEPTED
REQUEST_UNANSWERED = MissedReason.REQUEST_UNANSWERED
NOBODY_CAME = MissedReason.NOBODY_CAME
TUTOR_NO_SHOW = MissedReason.TUTOR_NO_SHOW

# An online session is looked at for a tutor no-show from a minute after its start (the
# shortest wait a policy may set) until this long after it (the longest wait, 120 minutes,
# plus time for a job that was stopped to catch up). The sweep reads only the open online
# sessions in that window whose tutor and students were never in the call together, through
# a partial index: what is due, not every session.
NO_SHOW_FIRST_LOOK = timedelta(minutes=1)
NO_SHOW_LAST_LOOK = timedelta(hours=6)


def missed_reason(
    session: Session, *, now: datetime, has_accepted: bool | None = None
) -> str | None:
    """Whether the job should mark `session` missed at `now`, and why.

    - An invitation whose start passes with no student accepted is missed at its start. (A
      student still invited beside one who accepted does not make it missed: the session
      stays Invited and that student blocks completion until they accept or are removed.)
    - An invitation recorded after its start (an in-person session logged after the fact)
      gets until the end of its grace period for a student to accept.
    - A request the tutor never answered is missed when logging would have closed; until
      then the tutor can still accept it and log the session.
    """
    if session.status not in (Status.INVITED, Status.REQUESTED):
        return None
    deadline = completion_deadline(
        scheduled_end=session.scheduled_end,
        call_ended_at=session.call_ended_at,
        grace_hours=session.organization.grace_hours,
        classroom_closes_at=session.classroom_closes_at,
    )
    if session.status == Status.REQUESTED:
        return REQUEST_UNANSWERED if now >= deadline else None
    if has_accepted is None:
        has_accepted = session.participants.filter(state=ParticipantState.ACCEPTED).exists()
    if has_accepted:
        return None
    due = deadline if session.recorded_after_the_fact else session.scheduled_start
    return NO_STUDENT_ACCEPTED if now >= due else None


def tutor_no_show_due(
    session: Session,
    *,
    now: datetime,
    accepted_ids: set[int],
    joins: dict[int, datetime],
) -> bool:
    """Whether an online session is missed as a tutor no-show at `now`: the organization's
    wait (`tutor_no_show_minutes`) has passed since the scheduled start, the tutor has never
    joined the classroom (a tutor who came late, before the wait ran out, or even after it but
    before this check, is teaching), and an accepted student joined it before the wait ran
    out. `joins` is when each person first joined the session's call."""
    if session.mode != Mode.ONLINE or session.status not in OPEN_STATUSES:
        return False
    if session.call_started_at is not None:
        return False
    due = session.scheduled_start + timedelta(minutes=session.organization.tutor_no_show_minutes)
    if now < due or session.tutor_id in joins:
        return False
    return any(joins[uid] <= due for uid in accepted_ids if uid in joins)


@dataclass
class SweepResult:
    expired_proposals: list[int] = field(default_factory=list)
    missed_sessions: list[int] = field(default_factory=list)
    tutor_no_shows: list[int] = field(default_factory=list)


def sweep(*, now: datetime | None = None) -> SweepResult:
    """Expire new times nobody answered before they (or the agreed time) arrived, then mark
    the sessions that are now missed. Each session in its own transaction."""
    now = now or timezone.now()
    result = SweepResult()
    due_proposals = TimeProposal.objects.filter(state=ProposalState.OPEN).filter(
        Q(scheduled_start__lte=now) | Q(session__scheduled_start__lte=now)
    )
    for proposal_id, session_id in due_proposals.values_list("pk", "session_id"):
        if _expire_proposal(proposal_id, session_id, now=now):
            result.expired_proposals.append(proposal_id)
    accepted = Participant.objects.filter(session=OuterRef("pk"), state=ParticipantState.ACCEPTED)
    candidates = (
        Session.objects.filter(scheduled_start__lte=now)
        .filter(Q(status=Status.REQUESTED) | (Q(status=Status.INVITED) & ~Exists(accepted)))
        .select_related("organization")
        .order_by("scheduled_start", "pk")
    )
    # Most candidates are not due yet (a request waits for the grace period's end); only the
    # due ones are locked, and checked again under the lock. One query, however many: an
    # invitation among the candidates has no accepted student.
    due = [s.pk for s in candidates if missed_reason(s, now=now, has_accepted=False) is not None]
    for session_id in due:
        if _mark_missed(session_id, now=now):
            result.missed_sessions.append(session_id)
    for session_id in tutor_no_show_candidates(now=now):
        if _mark_tutor_no_show(session_id, now=now):
            result.tutor_no_shows.append(session_id)
    return result


def tutor_no_show_candidates(*, now: datetime) -> list[int]:
    """The online sessions that are tutor no-shows at `now`, in three reads however many:
    the open sessions in the window (by the partial index), their accepted students, and who
    joined their calls. Each is checked again under its lock."""
    sessions = list(
        Session.objects.filter(
            mode=Mode.ONLINE,
            status__in=OPEN_STATUSES,
            call_started_at__isnull=True,
            scheduled_start__lte=now - NO_SHOW_FIRST_LOOK,
            scheduled_start__gt=now - NO_SHOW_LAST_LOOK,
        )
        .select_related("organization")
        .order_by("scheduled_start", "pk")
    )
    waited = [
        s
        for s in sessions
        if now >= s.scheduled_start + timedelta(minutes=s.organization.tutor_no_show_minutes)
    ]
    if not waited:
        return []
    ids = [s.pk for s in waited]
    accepted: dict[int, set[int]] = {}
    for session_id, user_id in Participant.objects.filter(
        session_id__in=ids, state=ParticipantState.ACCEPTED
    ).values_list("session_id", "user_id"):
        accepted.setdefault(session_id, set()).add(user_id)
    joins = call_presence().first_joins([s for s in ids if s in accepted])
    return [
        s.pk
        for s in waited
        if tutor_no_show_due(
            s, now=now, accepted_ids=accepted.get(s.pk, set()), joins=joins.get(s.pk, {})
        )
    ]


def _mark_tutor_no_show(session_id: int, *, now: datetime) -> bool:
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=session_id)
        )
        accepted = set(
            session.participants.filter(state=ParticipantState.ACCEPTED).values_list(
                "user_id", flat=True
            )
        )
        joins = call_presence().first_joins([session.pk]).get(session.pk, {})
        if not tutor_no_show_due(session, now=now, accepted_ids=accepted, joins=joins):
            return False
        audit.record(
            actor=None,
            action="session.tutor_no_show",
            organization_id=session.organization_id,
            session_id=session.pk,
            waited_minutes=session.organization.tutor_no_show_minutes,
            waiting_student_ids=sorted(uid for uid in accepted if uid in joins),
        )
        miss(session, actor=None, reason=TUTOR_NO_SHOW, now=now)
    return True


def _expire_proposal(proposal_id: int, session_id: int, *, now: datetime) -> bool:
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=session_id)
        )
        proposal = TimeProposal.objects.filter(pk=proposal_id, state=ProposalState.OPEN).first()
        if proposal is None:
            return False
        if min(proposal.scheduled_start, session.scheduled_start) > now:
            return False
        proposals.restore(session, proposal, state=ProposalState.EXPIRED, actor=None)
        audit.record(
            actor=None,
            action="session.time_expired",
            organization_id=session.organization_id,
            session_id=session.pk,
            proposal_id=proposal.pk,
        )
    return True


def _mark_missed(session_id: int, *, now: datetime) -> bool:
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=session_id)
        )
        reason = missed_reason(session, now=now)
        if reason is None:
            return False
        miss(session, actor=None, reason=reason, now=now)
    return True


def report_nobody_came(*, session_id: int, actor: User) -> Session:
    """The tutor (or Support) says nobody came: the session is Missed and is not logged.
    Only once it has started (before that, cancel it)."""
    with transaction.atomic():
        session = access_session(
            actor, session_id, queryset=Session.objects.select_for_update(of=("self",))
        )
        if session.tutor_id != actor.pk and not actor.is_support_agent:
            raise Forbidden("Only the session's tutor can report that nobody came.")
        if session.status == Status.MISSED:
            return session
        if session.status not in (Status.INVITED, Status.SCHEDULED):
            raise Conflict(
                f"A session that is {session.get_status_display().lower()} cannot be "
                "marked as missed.",
                code="invalid_transition",
            )
        opens = completable_from(
            scheduled_start=session.scheduled_start, call_started_at=session.call_started_at
        )
        if timezone.now() < opens:
            raise Conflict(
                "This session has not started yet. If it will not take place, cancel it.",
                code="session_not_started",
            )
        miss(session, actor=actor, reason=NOBODY_CAME, now=timezone.now())
    return session


def miss(session: Session, *, actor: User | None, reason: str, now: datetime) -> None:
    """Mark a locked session missed for `reason`, audit it and tell its people. A tutor
    no-show counts against the tutor, and its students are offered to book again."""
    lifecycle.move(session, Status.MISSED)
    session.missed_reason = reason
    session.save(update_fields=["status", "ended_at", "missed_reason", "updated_at"])
    proposals.close(session)
    audit.record(
        actor=actor,
        action="session.missed",
        organization_id=session.organization_id,
        session_id=session.pk,
        reason=reason,
    )
    if reason == TUTOR_NO_SHOW:
        no_show_notices.after_commit_tutor_no_show(session_id=session.pk)
        consequences.count_no_show(
            organization=session.organization,
            user_id=session.tutor_id,
            role=NoShowRole.TUTOR,
            actor=actor,
            now=now,
        )
        return
    after_commit_session_event(
        session_id=session.pk,
        event="missed",
        actor_id=actor.pk if actor is not None else None,
        reason=reason,
    )
