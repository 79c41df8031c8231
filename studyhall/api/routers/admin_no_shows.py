"""Org admins and no-shows: a person's no-shows this term and standing suspensions, lifting a
suspension, and deciding a student's report that an in-person session's tutor did not come."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.params.functions import Query
from pydantic import StrictBool, StrictStr

from studyhall.api.auth import actor_of
from studyhall.api.schemas import MAX_OFFSET, Input, ProblemOut
from studyhall.console import selectors
from studyhall.core.errors import NotFound
from studyhall.orgs.models import Organization
from studyhall.orgs.services.access import admin_organization
from studyhall.tutoring.models import BookingSuspension, Session, TutorAbsenceReport
from studyhall.tutoring.no_shows import standing_of
from studyhall.tutoring.services import no_shows

router = Router(tags=["admin: no-shows"])
ERRORS = {(400, 401, 403, 404, 409, 422): ProblemOut}


class SuspensionOut(Schema):
    id: int
    role: str = Field(description="`student` or `tutor`: the role whose booking is suspended.")
    no_shows: int = Field(description="The no-shows that brought it.")
    period: str = Field(description="The term they were counted in, or the last 120 days.")
    created_at: datetime


class StandingOut(Schema):
    user_id: int
    period: str = Field(description="The term that covers today, or `the last 120 days`.")
    period_start: date
    period_end: date
    student_no_shows: int
    tutor_no_shows: int
    warning_threshold: int = Field(description="0: no warnings.")
    suspension_threshold: int = Field(description="0: booking is never suspended.")
    suspensions: list[SuspensionOut] = Field(description="Standing ones only.")


class LiftIn(Input):
    role: StrictStr = Field(description="`student` or `tutor`.", max_length=16)
    reason: StrictStr = Field(
        description="Required; audited, and the person is told.", max_length=1000
    )


class AbsenceReportOut(Schema):
    id: int
    reporter_id: int
    note: str
    state: str = Field(description="`open`, `tutor_came` or `tutor_absent`.")
    created_at: datetime
    resolved_at: datetime | None


class AbsenceSessionOut(Schema):
    id: int
    course_code: str
    tutor_id: int
    scheduled_start: datetime
    status: str
    missed_reason: str = Field(description="Why it was missed; empty unless missed.")
    tutor_absence_reported: bool = Field(description="A report awaits a decision.")
    reports: list[AbsenceReportOut]


class AbsencePage(Schema):
    sessions: list[AbsenceSessionOut]
    next_offset: int | None


class ResolveIn(Input):
    tutor_came: StrictBool = Field(
        description="true: the tutor came (the session can be logged); false: it is missed as "
        "a tutor no-show, counted against the tutor."
    )
    note: StrictStr = Field("", max_length=1000)


def _org(request: HttpRequest, org_id: int) -> Organization:
    return admin_organization(actor_of(request), org_id)


def _person(organization: Organization, user_id: int) -> Any:
    member = selectors.member(organization, user_id)
    if member is None:
        raise NotFound("There is no such person in this organization.")
    return member.user


def _standing(organization: Organization, user: Any) -> dict[str, Any]:
    standing = standing_of(organization, user, now=timezone.now())
    return {
        "user_id": user.pk,
        "period": standing.period.label,
        "period_start": standing.period.start,
        "period_end": standing.period.end,
        "student_no_shows": standing.as_student,
        "tutor_no_shows": standing.as_tutor,
        "warning_threshold": standing.warning_threshold,
        "suspension_threshold": standing.suspension_threshold,
        "suspensions": [_suspension(s) for s in standing.suspensions],
    }


def _suspension(s: BookingSuspension) -> dict[str, Any]:
    return {
        "id": s.pk,
        "role": s.role,
        "no_shows": s.no_shows,
        "period": s.period_name,
        "created_at": s.created_at,
    }


def _absence(session: Session, reports: list[TutorAbsenceReport]) -> dict[str, Any]:
    return {
        "id": session.pk,
        "course_code": session.course.code,
        "tutor_id": session.tutor_id,
        "scheduled_start": session.scheduled_start,
        "status": session.status,
        "missed_reason": session.missed_reason,
        "tutor_absence_reported": session.tutor_absence_reported_at is not None,
        "reports": [
            {
                "id": r.pk,
                "reporter_id": r.reporter_id,
                "note": r.note,
                "state": r.state,
                "created_at": r.created_at,
                "resolved_at": r.resolved_at,
            }
            for r in reports
        ],
    }


def _reports_of(session_ids: list[int]) -> dict[int, list[TutorAbsenceReport]]:
    by_session: dict[int, list[TutorAbsenceReport]] = {}
    for report in TutorAbsenceReport.objects.filter(session_id__in=session_ids).order_by(
        "created_at", "pk"
    ):
        by_session.setdefault(report.session_id, []).append(report)
    return by_session


@router.get("/{int:org_id}/people/{int:user_id}/no-shows", response={200: StandingOut, **ERRORS})
def get_standing(request: HttpRequest, org_id: int, user_id: int) -> dict[str, Any]:
    """The person's no-shows in the term that covers today (or the last 120 days), as a
    student and as a tutor, and their standing booking suspensions."""
    organization = _org(request, org_id)
    return _standing(organization, _person(organization, user_id))


@router.post(
    "/{int:org_id}/people/{int:user_id}/suspension/lift", response={200: StandingOut, **ERRORS}
)
def lift(request: HttpRequest, org_id: int, user_id: int, payload: LiftIn) -> dict[str, Any]:
    """Lift the person's booking suspension in one role, with a reason (409 `not_suspended`
    when none stands; 400 `reason_required`)."""
    organization = _org(request, org_id)
    person = _person(organization, user_id)
    with transaction.atomic(durable=True):
        no_shows.lift_suspension(
            organization_id=organization.pk,
            user_id=person.pk,
            role=payload.role,
            actor=actor_of(request),
            reason=payload.reason,
        )
    return _standing(organization, person)


@router.get("/{int:org_id}/absence-reports", response={200: AbsencePage, **ERRORS})
def list_absences(
    request: HttpRequest,
    org_id: int,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """In-person sessions whose tutor a student reported absent, awaiting a decision; they
    cannot be logged until then. Oldest report first."""
    organization = _org(request, org_id)
    rows = list(selectors.tutor_absence_reports(organization)[offset : offset + limit + 1])
    page = rows[:limit]
    reports = _reports_of([s.pk for s in page])
    return {
        "sessions": [_absence(s, reports.get(s.pk, [])) for s in page],
        "next_offset": offset + limit if len(rows) > limit else None,
    }


@router.post(
    "/{int:org_id}/sessions/{int:session_id}/absence/resolve",
    response={200: AbsenceSessionOut, **ERRORS},
)
def resolve(
    request: HttpRequest, org_id: int, session_id: int, payload: ResolveIn
) -> dict[str, Any]:
    """Decide the reports that the session's tutor did not come (409 `no_open_report` when
    none awaits a decision)."""
    organization = _org(request, org_id)
    found = selectors.session_of(organization, session_id)
    if found is None:
        raise NotFound("There is no such session in this organization.")
    with transaction.atomic(durable=True):
        no_shows.resolve_absence(
            session_id=found.pk,
            actor=actor_of(request),
            tutor_came=payload.tutor_came,
            note=payload.note,
        )
    session = selectors.session_of(organization, found.pk)
    assert session is not None
    return _absence(session, _reports_of([session.pk]).get(session.pk, []))
