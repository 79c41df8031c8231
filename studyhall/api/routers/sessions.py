"""Sessions: list, details, booking and answering, and completing one.

Each handler parses, calls one service or selector, and renders; access rules live in
`tutoring.access` and the services (outsiders get 404, members who may not act 403).
"""

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Header, Router
from ninja import Status as Reply
from ninja.params.functions import Query

from studyhall.accounts.models import User
from studyhall.api.auth import actor_of
from studyhall.api.schemas import (
    MAX_OFFSET,
    AbsenceIn,
    AllowanceOut,
    BookingOptionsOut,
    CancelIn,
    CompleteIn,
    DeclineIn,
    InviteIn,
    ProblemOut,
    ProposeTimeIn,
    RequestIn,
    SessionIn,
    SessionOut,
    SessionPage,
    session_out,
    user_out,
)
from studyhall.core.errors import InvalidInput, NotFound
from studyhall.orgs.models import Course
from studyhall.orgs.selectors import is_member
from studyhall.tutoring import booking_selectors, selectors
from studyhall.tutoring.access import access_session, check_may_see_allowance
from studyhall.tutoring.models import Session, Status
from studyhall.tutoring.permissions import session_permissions
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.limits import allowance
from studyhall.tutoring.services.missed import report_nobody_came
from studyhall.tutoring.services.no_shows import report_tutor_absent
from studyhall.tutoring.services.rescheduling import (
    accept_proposal,
    decline_proposal,
    propose_time,
)
from studyhall.tutoring.services.scheduling import (
    accept_session,
    cancel_session,
    create_session,
    decline_session,
    remove_participant,
)

router = Router(tags=["sessions"])

ERRORS = {(400, 401, 403, 404, 409, 413, 422): ProblemOut}
REPLAYED_HEADER = "Idempotent-Replayed"


def _sees_earnings(viewer: User, session: Session, admin_orgs: frozenset[int]) -> bool:
    return session_permissions(viewer, session, admin_org_ids=admin_orgs).see_earnings


def _render(session_id: int, viewer: User) -> dict[str, Any]:
    session = selectors.session_detail(session_id)
    admin_orgs = (
        frozenset() if viewer.is_support_agent else selectors.admin_organization_ids(viewer)
    )
    proposal = booking_selectors.open_proposals([session.pk]).get(session.pk)
    return session_out(
        session, show_earnings=_sees_earnings(viewer, session, admin_orgs), proposal=proposal
    )


@router.get("", response={200: SessionPage, **ERRORS})
def list_sessions(
    request: HttpRequest,
    status: str | None = Query(None, description="Only sessions in this status."),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """The sessions you tutor or take part in, latest scheduled start first."""
    actor = actor_of(request)
    if status and status not in Status.values:
        raise InvalidInput(
            f"Unknown status; use one of: {', '.join(Status.values)}.",
            code="invalid_status",
            field="status",
        )
    sessions = selectors.session_page(actor, status=status or None, limit=limit + 1, offset=offset)
    admin_orgs = frozenset() if actor.is_support_agent else selectors.admin_organization_ids(actor)
    proposals = booking_selectors.open_proposals(s.pk for s in sessions[:limit])
    return {
        "sessions": [
            session_out(
                s,
                show_earnings=_sees_earnings(actor, s, admin_orgs),
                proposal=proposals.get(s.pk),
            )
            for s in sessions[:limit]
        ],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(sessions) > limit else None,
    }


@router.post("", response={201: SessionOut, **ERRORS})
def create(request: HttpRequest, payload: SessionIn) -> Reply[dict[str, Any]]:
    """Book a session: a tutor invites `student_ids`, or a student requests `tutor_id`."""
    actor = actor_of(request)
    session = create_session(
        actor=actor,
        organization_id=payload.organization_id,
        course_id=payload.course_id,
        mode=payload.mode,
        location=payload.location,
        scheduled_start=payload.scheduled_start,
        planned_minutes=payload.planned_minutes,
        notes=payload.notes,
        student_ids=payload.student_ids,
        tutor_id=payload.tutor_id,
    )
    return Reply(201, _render(session.pk, actor))


@router.post("/request", response={201: SessionOut, **ERRORS})
def request_session(request: HttpRequest, payload: RequestIn) -> Reply[dict[str, Any]]:
    """A student requests a tutor approved for a course they take. The session is
    `requested` ("Awaiting tutor") until the tutor accepts, declines or proposes another time.

    The booking limits are checked (422 `limit_exceeded`, with `limit` — `session_length`,
    `pair_daily`, `student_course_weekly` or `tutor_weekly` — and `remaining_minutes`).
    """
    actor = actor_of(request)
    session = create_session(
        actor=actor,
        organization_id=payload.organization_id,
        course_id=payload.course_id,
        tutor_id=payload.tutor_id,
        mode=payload.mode,
        location=payload.location,
        scheduled_start=payload.scheduled_start,
        planned_minutes=payload.planned_minutes,
        notes=payload.notes,
    )
    return Reply(201, _render(session.pk, actor))


@router.post("/invite", response={201: SessionOut, **ERRORS})
def invite(request: HttpRequest, payload: InviteIn) -> Reply[dict[str, Any]]:
    """A tutor invites students of a course they are approved for. The session is `invited`
    ("Awaiting student") until every student has answered. Limits as for a request."""
    actor = actor_of(request)
    if not payload.student_ids:
        raise InvalidInput("Invite at least one student.", code="no_participants")
    session = create_session(
        actor=actor,
        organization_id=payload.organization_id,
        course_id=payload.course_id,
        student_ids=payload.student_ids,
        mode=payload.mode,
        location=payload.location,
        scheduled_start=payload.scheduled_start,
        planned_minutes=payload.planned_minutes,
        notes=payload.notes,
    )
    return Reply(201, _render(session.pk, actor))


@router.get("/booking/options", response={200: BookingOptionsOut, **ERRORS})
def booking_options(request: HttpRequest) -> dict[str, Any]:
    """The courses you take with the tutors you can request, and the courses you tutor with
    the students you can invite."""
    actor = actor_of(request)
    options = booking_selectors.booking_options(actor)

    def rows(choices: list[booking_selectors.CourseChoice]) -> list[dict[str, Any]]:
        return [
            {
                "course": {"id": c.course.pk, "code": c.course.code, "title": c.course.title},
                "organization": {
                    "id": c.course.organization.pk,
                    "name": c.course.organization.name,
                },
                "people": [user_out(u) for u in c.people],
            }
            for c in choices
        ]

    return {"taking": rows(options.taking), "tutoring": rows(options.tutoring)}


@router.get("/booking/allowance", response={200: AllowanceOut, **ERRORS})
def booking_allowance(
    request: HttpRequest,
    course_id: Annotated[int, Query(ge=1)],
    tutor_id: Annotated[int, Query(ge=1)],
    start: Annotated[datetime, Query(description="ISO 8601 with a time zone offset.")],
    student_ids: Annotated[list[int] | None, Query(description="Default: yourself.")] = None,
) -> dict[str, Any]:
    """What the tutor and the students have left in the week and day of `start`, before
    booking. Members of the course's organization only."""
    actor = actor_of(request)
    course = Course.objects.select_related("organization").filter(pk=course_id).first()
    if course is None or not is_member(actor, course.organization_id):
        raise NotFound("There is no such course.")
    if start.tzinfo is None:
        raise InvalidInput("Give the start with its time zone.", code="invalid_start")
    check_may_see_allowance(
        actor,
        organization_id=course.organization_id,
        tutor_id=tutor_id,
        student_ids=list(student_ids or [actor.pk]),
    )
    members = User.objects.filter(
        memberships__organization_id=course.organization_id,
        pk__in=[tutor_id, *(student_ids or [actor.pk])],
    ).distinct()
    people = {u.pk: u for u in members}
    if tutor_id not in people or any(i not in people for i in student_ids or [actor.pk]):
        raise InvalidInput("Everyone must be a member of the course's organization.")
    left = allowance(
        organization=course.organization,
        course=course,
        tutor=people[tutor_id],
        students=[people[i] for i in (student_ids or [actor.pk])],
        start=start,
    )
    return {
        "week_start": left.week.first_day.isoformat(),
        "day": left.day.first_day.isoformat(),
        "max_session_minutes": left.max_session_minutes,
        "pair_sessions_per_day": left.pair_sessions_per_day,
        "student_weekly_minutes_per_course": left.student_weekly_minutes,
        "tutor_weekly_minutes": left.tutor_weekly_minutes,
        "tutor_minutes_left": left.tutor_minutes_left,
        "students": [
            {
                "user": user_out(s.student),
                "course_minutes_left": s.course_minutes_left,
                "sessions_with_tutor_that_day": s.sessions_with_tutor_that_day,
            }
            for s in left.students
        ],
    }


@router.get("/{int:session_id}", response={200: SessionOut, **ERRORS})
def get_session(request: HttpRequest, session_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    session = access_session(actor, session_id)
    return _render(session.pk, actor)


@router.post("/{int:session_id}/accept", response={200: SessionOut, **ERRORS})
def accept(request: HttpRequest, session_id: int) -> dict[str, Any]:
    """The tutor accepts a request, or an invited student accepts the invitation."""
    actor = actor_of(request)
    session = accept_session(session_id=session_id, actor=actor)
    return _render(session.pk, actor)


@router.post("/{int:session_id}/decline", response={200: SessionOut, **ERRORS})
def decline(
    request: HttpRequest, session_id: int, payload: DeclineIn | None = None
) -> dict[str, Any]:
    """The tutor declines a request, or a student declines, with an optional message."""
    actor = actor_of(request)
    message = (payload.message if payload is not None else None) or ""
    session = decline_session(session_id=session_id, actor=actor, message=message)
    return _render(session.pk, actor)


@router.post("/{int:session_id}/cancel", response={200: SessionOut, **ERRORS})
def cancel(
    request: HttpRequest, session_id: int, payload: CancelIn | None = None
) -> dict[str, Any]:
    """Call the session off with a `reason` (a student in a group withdraws only themselves)."""
    actor = actor_of(request)
    reason = (payload.reason if payload is not None else None) or ""
    session = cancel_session(session_id=session_id, actor=actor, reason=reason)
    return _render(session.pk, actor)


@router.post("/{int:session_id}/propose-time", response={200: SessionOut, **ERRORS})
def propose(request: HttpRequest, session_id: int, payload: ProposeTimeIn) -> dict[str, Any]:
    """Propose a new time (and optionally a new length). The tutor's proposal is answered by
    each student on the session (status `invited`, "Awaiting student"); a student's — only in
    a one-to-one session — by the tutor (`requested`, "Awaiting tutor"). The session keeps its
    agreed time until then; see `proposal`. A newer proposal replaces an open one. Limits are
    checked at the new time (422 `limit_exceeded`)."""
    actor = actor_of(request)
    proposal = propose_time(
        session_id=session_id,
        actor=actor,
        scheduled_start=payload.scheduled_start,
        planned_minutes=payload.planned_minutes,
        message=payload.message or "",
    )
    return _render(proposal.session_id, actor)


@router.post("/{int:session_id}/proposal/accept", response={200: SessionOut, **ERRORS})
def accept_new_time(request: HttpRequest, session_id: int) -> dict[str, Any]:
    """Accept the proposed new time; the session moves once everyone who must has accepted.
    409 `no_proposal` when nothing waits for an answer."""
    actor = actor_of(request)
    session = accept_proposal(session_id=session_id, actor=actor)
    return _render(session.pk, actor)


@router.post("/{int:session_id}/proposal/decline", response={200: SessionOut, **ERRORS})
def decline_new_time(
    request: HttpRequest, session_id: int, payload: DeclineIn | None = None
) -> dict[str, Any]:
    """Keep the agreed time: the session returns to how it was before the proposal."""
    actor = actor_of(request)
    message = (payload.message if payload is not None else None) or ""
    session = decline_proposal(session_id=session_id, actor=actor, message=message)
    return _render(session.pk, actor)


@router.post("/{int:session_id}/nobody-came", response={200: SessionOut, **ERRORS})
def nobody_came(request: HttpRequest, session_id: int) -> dict[str, Any]:
    """The tutor reports that no student came: the session becomes `missed` (not paid)."""
    actor = actor_of(request)
    session = report_nobody_came(session_id=session_id, actor=actor)
    return _render(session.pk, actor)


@router.post("/{int:session_id}/tutor-absent", response={200: SessionOut, **ERRORS})
def tutor_absent(
    request: HttpRequest, session_id: int, payload: AbsenceIn | None = None
) -> dict[str, Any]:
    """An accepted student of an in-person session reports that the tutor did not come, from
    the start until logging closes. The org admins decide; until then the session cannot be
    completed (409 `tutor_absence_reported`). 409 `already_reported`, `report_online_session`,
    `session_not_started`, `report_closed`; 403 for the tutor or anyone not an accepted
    student."""
    actor = actor_of(request)
    note = (payload.note if payload is not None else None) or ""
    report = report_tutor_absent(session_id=session_id, actor=actor, note=note)
    return _render(report.session_id, actor)


@router.post(
    "/{int:session_id}/participants/{int:user_id}/remove", response={200: SessionOut, **ERRORS}
)
def remove(request: HttpRequest, session_id: int, user_id: int) -> dict[str, Any]:
    """The tutor takes a student who did not come off the session, so it can be completed."""
    actor = actor_of(request)
    session = remove_participant(session_id=session_id, actor=actor, user_id=user_id)
    return _render(session.pk, actor)


@router.post("/{int:session_id}/complete", response={200: SessionOut, **ERRORS})
def complete(
    request: HttpRequest,
    session_id: int,
    payload: CompleteIn,
    response: HttpResponse,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Log the time and recap; the earnings are deposited at once.

    Send an `Idempotency-Key` (a UUID) to retry safely: a repeat with the same key returns the
    first response again (marked `Idempotent-Replayed: true`); any other repeat is 409
    `already_completed`. A session is paid at most once, whatever happens.

    For an online session, a time more than 15 minutes above what the classroom measured with
    the tutor and a student together is refused with 422 `confirm_over_measured`, and any time
    with nothing measured with `confirm_unmeasured` (each carries `measured_seconds`); send
    `confirm_time: true` to log it anyway, flagged for review.
    """
    actor = actor_of(request)
    result = complete_session(
        session_id=session_id,
        actor=actor,
        minutes=payload.minutes,
        recap=payload.recap_answers(),
        idempotency_key=idempotency_key,
        on_behalf_reason=payload.reason,
        no_show_user_ids=payload.no_shows,
        confirm_time=payload.confirm_time,
    )
    if result.replayed:
        response[REPLAYED_HEADER] = "true"
        return _render(result.completion.session_id, actor)
    # Built from what the completion wrote and read under its lock: no query, unless the
    # lock saw an open new-time proposal. Whoever completes (the tutor, or Support) sees the
    # earnings without the organization-admin check.
    session = result.completion.session
    proposal = (
        booking_selectors.open_proposals([session.pk]).get(session.pk)
        if result.open_proposal
        else None
    )
    return session_out(
        session,
        show_earnings=session_permissions(actor, session).see_earnings,
        proposal=proposal,
        participants=result.participants,
        corrections=[],
    )
