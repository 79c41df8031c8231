"""Sessions: list, details, booking and answering, and completing one.

Each handler parses, calls one service or selector, and renders; access rules live in
`tutoring.access` and the services (outsiders get 404, members who may not act 403).
"""

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Header, Query, Router
from ninja import Status as Reply

from studyhall.accounts.models import User
from studyhall.api.auth import actor_of
from studyhall.api.schemas import (
    MAX_OFFSET,
    CancelIn,
    CompleteIn,
    DeclineIn,
    ProblemOut,
    SessionIn,
    SessionOut,
    SessionPage,
    may_see_earnings,
    session_out,
)
from studyhall.core.errors import InvalidInput
from studyhall.tutoring import selectors
from studyhall.tutoring.access import access_session
from studyhall.tutoring.models import Status
from studyhall.tutoring.services.completion import complete_session
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


def _render(session_id: int, viewer: User) -> dict[str, Any]:
    session = selectors.session_detail(session_id)
    admin_orgs = (
        frozenset() if viewer.is_support_agent else selectors.admin_organization_ids(viewer)
    )
    return session_out(session, show_earnings=may_see_earnings(viewer, session, admin_orgs))


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
    return {
        "sessions": [
            session_out(s, show_earnings=may_see_earnings(actor, s, admin_orgs))
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
    """
    actor = actor_of(request)
    result = complete_session(
        session_id=session_id,
        actor=actor,
        minutes=payload.minutes,
        recap=payload.recap_answers(),
        idempotency_key=idempotency_key,
        on_behalf_reason=payload.reason,
    )
    if result.replayed:
        response[REPLAYED_HEADER] = "true"
    return _render(result.completion.session_id, actor)
