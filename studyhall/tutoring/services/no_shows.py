"""No-shows (ADR 17): a student's report that the tutor of an in-person session did not come,
an org admin's decision on it, and an org admin lifting a booking suspension (the warnings and
suspensions themselves are `consequences`).

Every step is audited; the notices go out through `no_show_notices`, enqueued in the
caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, InvalidInput
from studyhall.core.text import clean_text
from studyhall.orgs.services.access import admin_organization
from studyhall.tutoring.access import access_session, is_org_admin
from studyhall.tutoring.models import (
    OPEN_STATUSES,
    AbsenceReportState,
    BookingSuspension,
    MissedReason,
    Mode,
    NoShowRole,
    Participant,
    ParticipantState,
    Session,
    TutorAbsenceReport,
)
from studyhall.tutoring.rules import completable_from, completion_deadline
from studyhall.tutoring.services import missed, no_show_notices

NOTE_MAX_CHARS = 1000
LIFT_REASON_MAX_CHARS = 1000


def lift_suspension(
    *, organization_id: int, user_id: int, role: str, actor: User, reason: str
) -> BookingSuspension:
    """An org admin lifts a person's standing suspension in one role, saying why."""
    organization = admin_organization(actor, organization_id)
    if role not in NoShowRole.values:
        raise InvalidInput("Choose the student or the tutor suspension.", code="invalid_role")
    reason = clean_text(reason or "", field="Reason", max_length=LIFT_REASON_MAX_CHARS)
    if not reason:
        raise InvalidInput(
            "Say why the suspension is lifted; the reason is kept in the audit log.",
            code="reason_required",
            field="reason",
        )
    with transaction.atomic():
        suspension = (
            BookingSuspension.objects.select_for_update()
            .filter(organization=organization, user_id=user_id, role=role, lifted_at__isnull=True)
            .first()
        )
        if suspension is None:
            raise Conflict(
                "This person's booking is not suspended.", code="not_suspended", field="role"
            )
        suspension.lifted_at = timezone.now()
        suspension.lifted_by = actor
        suspension.lift_reason = reason
        suspension.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
        audit.record(
            actor=actor,
            action="no_show.suspension_lifted",
            organization_id=organization.pk,
            user_id=user_id,
            role=role,
            suspension_id=suspension.pk,
            reason=reason,
        )
        no_show_notices.after_commit_standing(event="lifted", record_id=suspension.pk)
    return suspension


# -- in person: "My tutor didn't come" ------------------------------------------------------


def report_window(session: Session) -> tuple[datetime, datetime]:
    """From the session's start until logging closes (its grace period)."""
    opens = completable_from(
        scheduled_start=session.scheduled_start, call_started_at=session.call_started_at
    )
    closes = completion_deadline(
        scheduled_end=session.scheduled_end,
        call_ended_at=session.call_ended_at,
        grace_hours=session.organization.grace_hours,
        classroom_closes_at=session.classroom_closes_at,
    )
    return opens, closes


def report_tutor_absent(*, session_id: int, actor: User, note: str = "") -> TutorAbsenceReport:
    """An accepted student of an in-person session says the tutor did not come. The session
    is flagged for the org admins and cannot be completed until one of them decides."""
    note = clean_text(note or "", field="Note", max_length=NOTE_MAX_CHARS)
    with transaction.atomic():
        session = access_session(
            actor,
            session_id,
            queryset=Session.objects.select_for_update(of=("self",)).select_related("organization"),
        )
        if session.tutor_id == actor.pk:
            raise Forbidden("Only the session's students can report that the tutor did not come.")
        participant = Participant.objects.filter(session=session, user=actor).first()
        if participant is None or participant.state != ParticipantState.ACCEPTED:
            raise Forbidden("Only a student who accepted the session can report this.")
        if session.mode != Mode.IN_PERSON:
            raise Conflict(
                "An online session's classroom tells whether the tutor came; there is nothing "
                "to report.",
                code="report_online_session",
            )
        if TutorAbsenceReport.objects.filter(session=session, reporter=actor).exists():
            raise Conflict(
                "You already reported that the tutor did not come; an org admin is looking "
                "into it.",
                code="already_reported",
            )
        if session.status not in OPEN_STATUSES:
            raise Conflict(
                f"A session that is {session.get_status_display().lower()} can no longer be "
                "reported.",
                code="invalid_transition",
            )
        now = timezone.now()
        opens, closes = report_window(session)
        if now < opens:
            raise Conflict(
                "The session has not started yet; you can report it once it has.",
                code="session_not_started",
            )
        if now > closes:
            raise Conflict(
                "Logging this session has closed, and with it the time to report it. Write to "
                "Support if something went wrong.",
                code="report_closed",
            )
        report = TutorAbsenceReport.objects.create(session=session, reporter=actor, note=note)
        if session.tutor_absence_reported_at is None:
            session.tutor_absence_reported_at = now
            session.save(update_fields=["tutor_absence_reported_at", "updated_at"])
        audit.record(
            actor=actor,
            action="session.tutor_absence_reported",
            organization_id=session.organization_id,
            session_id=session.pk,
            report_id=report.pk,
            note=note,
        )
        no_show_notices.after_commit_absence(event="reported", session_id=session.pk)
    return report


def resolve_absence(*, session_id: int, actor: User, tutor_came: bool, note: str = "") -> Session:
    """An org admin decides a report: the tutor came (completion is unblocked and the
    reporters are told), or did not (the session is missed as a tutor no-show, counted)."""
    if not isinstance(tutor_came, bool):
        raise InvalidInput("Say whether the tutor came.", code="invalid_resolution")
    note = clean_text(note or "", field="Note", max_length=NOTE_MAX_CHARS)
    with transaction.atomic():
        session = access_session(
            actor,
            session_id,
            queryset=Session.objects.select_for_update(of=("self",)).select_related("organization"),
        )
        if not is_org_admin(actor, session):
            raise Forbidden("Only the organization's admins can decide a report.")
        reports = list(
            TutorAbsenceReport.objects.select_for_update().filter(
                session=session, state=AbsenceReportState.OPEN
            )
        )
        if not reports:
            raise Conflict(
                "Nobody reported that this session's tutor did not come, or it was already "
                "decided.",
                code="no_open_report",
            )
        if not tutor_came and session.status not in OPEN_STATUSES:
            raise Conflict(
                f"A session that is {session.get_status_display().lower()} cannot be missed.",
                code="invalid_transition",
            )
        now = timezone.now()
        state = AbsenceReportState.TUTOR_CAME if tutor_came else AbsenceReportState.TUTOR_ABSENT
        TutorAbsenceReport.objects.filter(pk__in=[r.pk for r in reports]).update(
            state=state, resolved_by=actor, resolved_at=now, resolution_note=note
        )
        session.tutor_absence_reported_at = None
        session.save(update_fields=["tutor_absence_reported_at", "updated_at"])
        audit.record(
            actor=actor,
            action="session.tutor_absence_resolved",
            organization_id=session.organization_id,
            session_id=session.pk,
            tutor_came=tutor_came,
            report_ids=[r.pk for r in reports],
            note=note,
        )
        if tutor_came:
            no_show_notices.after_commit_absence(event="tutor_came", session_id=session.pk)
        else:
            missed.miss(session, actor=actor, reason=MissedReason.TUTOR_NO_SHOW, now=now)
    return session
