"""After a session: its students confirm it happened as logged or dispute it, and Support
resolves disputes. Each handler parses, calls one service, and renders."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field, StrictInt, StrictStr

from studyhall.api.auth import actor_of
from studyhall.api.schemas import Input, ProblemOut
from studyhall.tutoring.models import Confirmation, EarningHold, Rating
from studyhall.tutoring.services.confirmations import (
    confirm_session,
    dispute_session,
    uphold_dispute,
)
from studyhall.tutoring.services.ratings import hide_review, rate_session

router = Router(tags=["confirmations"])

ERRORS = {(400, 401, 403, 404, 409, 422): ProblemOut}


class DisputeIn(Input):
    kind: StrictStr = Field(description="`did_not_happen`, or `shorter` with `shorter_by_minutes`.")
    shorter_by_minutes: StrictInt | None = Field(
        None, description="For `shorter`: 5, 10, … less than the logged time."
    )
    reason: StrictStr | None = Field(None, description="Required: what happened.")


class UpholdIn(Input):
    note: StrictStr | None = Field(None, description="Optional: why the log stands.")


class RatingIn(Input):
    stars: StrictInt = Field(description="1 to 5.")
    review: StrictStr | None = Field(None, description="Optional; students' only.")


class HideIn(Input):
    reason: StrictStr | None = Field(None, description="Required; kept in the audit log.")


class RatingOut(Schema):
    id: int
    session_id: int
    stars: int
    review: str
    by_tutor: bool
    hidden: bool


class ConfirmationOut(Schema):
    session_id: int
    answer: Literal["pending", "confirmed", "auto_confirmed", "disputed"]
    answered_at: datetime | None
    dispute_kind: Literal["", "did_not_happen", "shorter"]
    shorter_by_minutes: int
    earning_state: Literal["pending", "disputed", "released"] = Field(
        description="The session's earning: pending confirmation, held for a dispute, or "
        "released to the tutor."
    )


class HoldOut(Schema):
    session_id: int
    earning_state: Literal["pending", "disputed", "released"]
    resolution: Literal["", "upheld", "adjusted"]


def _confirmation_out(confirmation: Confirmation) -> dict[str, Any]:
    state = EarningHold.objects.values_list("state", flat=True).get(
        session_id=confirmation.session_id
    )
    return {
        "session_id": confirmation.session_id,
        "answer": confirmation.answer,
        "answered_at": confirmation.answered_at,
        "dispute_kind": confirmation.dispute_kind,
        "shorter_by_minutes": confirmation.shorter_by_minutes,
        "earning_state": state,
    }


@router.post("/{int:session_id}/confirm", response={200: ConfirmationOut, **ERRORS})
def confirm(request: HttpRequest, session_id: int) -> dict[str, Any]:
    """A student who came says the session happened as logged (repeating it is harmless)."""
    confirmation = confirm_session(session_id=session_id, actor=actor_of(request))
    return _confirmation_out(confirmation)


@router.post("/{int:session_id}/dispute", response={200: ConfirmationOut, **ERRORS})
def dispute(request: HttpRequest, session_id: int, payload: DisputeIn) -> dict[str, Any]:
    """A student who came says it didn't happen, or was shorter; only the pay the dispute is
    about is held until Support resolves it. 422 `invalid_shorter_by`, `reason_required`;
    409 `already_answered`, `confirmation_closed`, `no_confirmation`."""
    confirmation = dispute_session(
        session_id=session_id,
        actor=actor_of(request),
        kind=payload.kind,
        shorter_by_minutes=payload.shorter_by_minutes,
        reason=payload.reason or "",
    )
    return _confirmation_out(confirmation)


@router.post("/{int:session_id}/dispute/uphold", response={200: HoldOut, **ERRORS})
def uphold(
    request: HttpRequest, session_id: int, payload: UpholdIn | None = None
) -> dict[str, Any]:
    """Support sides with the tutor's log: the held pay is released (409 `no_open_dispute`).
    To adjust instead, propose a correction; once a second agent approves it, the dispute is
    resolved with it."""
    hold = uphold_dispute(
        session_id=session_id,
        actor=actor_of(request),
        note=(payload.note if payload is not None else None) or "",
    )
    return {
        "session_id": hold.session_id,
        "earning_state": hold.state,
        "resolution": hold.resolution,
    }


def _rating_out(rating: Rating) -> dict[str, Any]:
    return {
        "id": rating.pk,
        "session_id": rating.session_id,
        "stars": rating.stars,
        "review": rating.review,
        "by_tutor": rating.by_tutor,
        "hidden": rating.hidden,
    }


@router.post("/{int:session_id}/rating", response={201: RatingOut, **ERRORS})
def rate(request: HttpRequest, session_id: int, payload: RatingIn) -> tuple[int, dict[str, Any]]:
    """Rate a completed session 1–5: a student who came and confirmed it (with an optional
    review), or its tutor (how the students engaged; admins only see it). Never changes pay.
    409 `already_rated`, `confirm_first`; 400 `invalid_stars`."""
    rating = rate_session(
        session_id=session_id,
        actor=actor_of(request),
        stars=payload.stars,
        review=payload.review or "",
    )
    return 201, _rating_out(rating)


@router.post("/ratings/{int:rating_id}/hide", response={200: RatingOut, **ERRORS})
def hide(request: HttpRequest, rating_id: int, payload: HideIn) -> dict[str, Any]:
    """An org admin hides a reported review, with the reason (audited)."""
    rating = hide_review(rating_id=rating_id, actor=actor_of(request), reason=payload.reason or "")
    return _rating_out(rating)
