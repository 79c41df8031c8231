"""The API's shapes: what clients send (…In) and what they get back (…Out), and the one
function that turns a session into its representation.

Inputs are typed strictly (a number where a number belongs, text where text belongs), but the
product rules stay in the services: `minutes` reaches `complete_session` whatever integer it
is, and the recap answers reach it even when empty, so the client gets the service's own code
and message (`invalid_duration`, `recap_incomplete`, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ObjectDoesNotExist
from ninja import Schema
from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr
from pydantic.config import JsonDict

from studyhall.accounts.models import User
from studyhall.ledger.models import Entry
from studyhall.tutoring.figures import figures_of
from studyhall.tutoring.models import (
    Completion,
    Correction,
    Mode,
    Participant,
    ParticipantState,
    Session,
    Status,
    TimeProposal,
)
from studyhall.tutoring.selectors import deadline_of

# A database id: a positive 64-bit integer.
Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
MAX_OFFSET = 1_000_000


# -- inputs --------------------------------------------------------------------------------


# What the services accept, documented in the schema; the services themselves refuse anything
# else, with their own stable codes (`invalid_mode`, `invalid_duration`), so the pydantic
# layer does not enforce these and turn them into a generic `validation_error`.
MODE_VALUES: JsonDict = {"enum": ["online", "in_person"]}
LENGTH_VALUES: JsonDict = {"minimum": 5, "maximum": 90, "multipleOf": 5}


class Input(BaseModel):
    """Plain pydantic, not ninja's Schema: Schema reads attributes off any object, so a string
    sent where an object belongs would pass as an empty object instead of being refused."""


class TokenIn(Input):
    email: StrictStr = Field(max_length=254)
    password: StrictStr = Field(max_length=1024)
    name: StrictStr = Field("", max_length=100, description="What the token is for.")
    scope: Literal["full", "read_only", "admin"] = Field(
        "full", description="`read_only` may only read; `admin` may only call the admin API."
    )
    expires_in_days: StrictInt = Field(30, ge=1, le=365, description="Lifetime in days.")


class RecapIn(Input):
    topics_covered: StrictStr | None = Field(None, description="What you covered.")
    tutee_progress: StrictStr | None = Field(None, description="How your tutee did.")
    next_steps: StrictStr | None = Field(None, description="What comes next.")


class CompleteIn(Input):
    minutes: StrictInt = Field(
        description="5, 10, 15 … 90: the time spent, rounded up.", json_schema_extra=LENGTH_VALUES
    )
    recap: RecapIn | None = Field(
        None, description="The three answers; together at least 150 characters."
    )
    reason: StrictStr | None = Field(
        None, description="Support agents only: why you log this session for the tutor."
    )
    no_shows: list[StrictInt] = Field(
        default_factory=list,
        max_length=50,
        description="Accepted students who never came: taken off the session, sent no recap.",
    )
    confirm_time: StrictBool = Field(
        False,
        description=(
            "Online sessions: true logs a time well above the classroom's measured time (or "
            "with nothing measured) after a `confirm_over_measured` or `confirm_unmeasured` "
            "refusal; the session is flagged for review."
        ),
    )

    def recap_answers(self) -> dict[str, object]:
        return self.recap.model_dump() if self.recap is not None else {}


class SessionIn(Input):
    """A tutor invites `student_ids`; a student requests a tutor with `tutor_id`."""

    organization_id: Id
    course_id: Id
    mode: StrictStr = Field(description="`online` or `in_person`.", json_schema_extra=MODE_VALUES)
    location: StrictStr = Field("", description="Where an in-person session takes place.")
    scheduled_start: datetime = Field(description="ISO 8601 with a time zone offset.")
    planned_minutes: StrictInt = Field(
        description="5, 10, 15 … 90.", json_schema_extra=LENGTH_VALUES
    )
    notes: StrictStr = ""
    student_ids: list[Id] = Field(default_factory=list)
    tutor_id: Id | None = None


class RequestIn(Input):
    """A student asks a tutor approved for a course they take."""

    organization_id: Id
    course_id: Id
    tutor_id: Id
    mode: StrictStr = Field(description="`online` or `in_person`.", json_schema_extra=MODE_VALUES)
    location: StrictStr = Field("", description="Where an in-person session takes place.")
    scheduled_start: datetime = Field(description="ISO 8601 with a time zone offset.")
    planned_minutes: StrictInt = Field(
        description="5, 10, 15 … 90 (or the org's maximum).", json_schema_extra=LENGTH_VALUES
    )
    notes: StrictStr = ""


class InviteIn(Input):
    """A tutor invites students of a course they are approved for (up to the group size)."""

    organization_id: Id
    course_id: Id
    student_ids: list[Id] = Field(max_length=100)
    mode: StrictStr = Field(description="`online` or `in_person`.", json_schema_extra=MODE_VALUES)
    location: StrictStr = Field("", description="Where an in-person session takes place.")
    scheduled_start: datetime = Field(description="ISO 8601 with a time zone offset.")
    planned_minutes: StrictInt = Field(
        description="5, 10, 15 … 90 (or the org's maximum).", json_schema_extra=LENGTH_VALUES
    )
    notes: StrictStr = ""


class ProposeTimeIn(Input):
    scheduled_start: datetime = Field(description="The new start, ISO 8601 with an offset.")
    planned_minutes: StrictInt | None = Field(
        None,
        description="A new length (5, 10, 15 … 90); the current one if left out.",
        json_schema_extra=LENGTH_VALUES,
    )
    message: StrictStr | None = Field(None, description="Why, for the other side.")


class DeclineIn(Input):
    message: StrictStr | None = None


class AbsenceIn(Input):
    note: StrictStr | None = Field(
        None, max_length=1000, description="What happened (optional): how long you waited."
    )


class CancelIn(Input):
    reason: StrictStr | None = Field(None, description="Required; everyone on it sees it.")


# -- outputs -------------------------------------------------------------------------------


class TokenOut(Schema):
    token: str


class UserOut(Schema):
    id: int
    email: str
    name: str


class CourseOut(Schema):
    id: int
    code: str
    title: str


class OrganizationOut(Schema):
    id: int
    name: str


class ParticipantOut(Schema):
    user: UserOut
    state: ParticipantState


class MoneyOut(Schema):
    amount_cents: int
    currency: str


class CorrectionOut(Schema):
    kind: Literal["void", "adjust_minutes"]
    minutes_before: int
    minutes_after: int = Field(description="0 once voided.")
    amount_before: MoneyOut | None = Field(description="Shown where earnings are.")
    amount_after: MoneyOut | None = Field(description="Shown where earnings are.")
    reason: str | None = Field(description="Shown to the tutor, org admins and support only.")
    created_at: datetime


class RecapOut(Schema):
    topics_covered: str
    tutee_progress: str
    next_steps: str


class ProposalOut(Schema):
    id: int
    proposed_by: UserOut
    by: str = Field(description="`tutor` (each student answers) or `student` (the tutor does).")
    scheduled_start: datetime
    planned_minutes: int
    message: str
    previous_start: datetime
    previous_minutes: int
    created_at: datetime


class SessionOut(Schema):
    id: int
    status: Status
    mode: Mode
    location: str
    scheduled_start: datetime
    planned_minutes: int
    course: CourseOut
    organization: OrganizationOut
    tutor: UserOut
    participants: list[ParticipantOut]
    completion_deadline: datetime = Field(
        description="Until when the tutor can complete it (the grace period's end)."
    )
    recorded_after_the_fact: bool = Field(
        description="Booked after its start had already passed (listed for the org admin)."
    )
    notes: str
    cancel_reason: str
    missed_reason: str = Field(
        description="Why it was missed: `no_student_accepted`, `request_unanswered`, "
        "`nobody_came` or `tutor_no_show`; empty unless missed."
    )
    tutor_absence_reported: bool = Field(
        description="A student reported that the tutor did not come (in person); the "
        "session cannot be completed until an org admin decides."
    )
    minutes: int | None = Field(
        description="Once completed: the minutes it counts for now, after any corrections."
    )
    earnings: MoneyOut | None = Field(
        description="Once completed, after any corrections; shown to the tutor, org admins "
        "and support only."
    )
    logged_minutes: int | None = Field(description="Once completed: as the tutor logged it.")
    logged_earnings: MoneyOut | None = Field(
        description="What the completion paid as logged (where earnings are shown)."
    )
    corrections: list[CorrectionOut] = Field(description="Oldest first; empty if none.")
    recap: RecapOut | None = Field(description="Once completed.")
    proposal: ProposalOut | None = Field(
        None,
        description="A new time waiting for an answer; the session keeps its time until "
        "the other side accepts it.",
    )


class SessionPage(Schema):
    sessions: list[SessionOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="Pass as `offset` for the next page.")


class BalanceOut(Schema):
    currency: str
    amount_cents: int


class BalancesOut(Schema):
    balances: list[BalanceOut]


class TransactionOut(Schema):
    id: int
    kind: str
    amount_cents: int
    currency: str
    description: str
    created_at: datetime
    session_id: int | None


class TransactionPage(Schema):
    transactions: list[TransactionOut]
    limit: int
    offset: int
    next_offset: int | None


class AllowanceStudentOut(Schema):
    user: UserOut
    course_minutes_left: int = Field(description="Of the student's weekly minutes for the course.")
    sessions_with_tutor_that_day: int


class AllowanceOut(Schema):
    """What is left in the week (Monday–Sunday, org time zone) and day of `start`."""

    week_start: str
    day: str
    max_session_minutes: int
    pair_sessions_per_day: int
    student_weekly_minutes_per_course: int
    tutor_weekly_minutes: int
    tutor_minutes_left: int
    students: list[AllowanceStudentOut]


class BookingCourseOut(Schema):
    course: CourseOut
    organization: OrganizationOut
    people: list[UserOut] = Field(
        description="For `taking`: the course's tutors; for `tutoring`: its students."
    )


class BookingOptionsOut(Schema):
    taking: list[BookingCourseOut] = Field(description="Courses you take, with their tutors.")
    tutoring: list[BookingCourseOut] = Field(description="Courses you tutor, with their students.")


class ProblemOut(Schema):
    """RFC 9457 problem details (served as application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    code: str


# -- rendering -----------------------------------------------------------------------------


def user_out(user: User) -> dict[str, Any]:
    return {"id": user.pk, "email": user.email, "name": user.display_name}


def proposal_out(proposal: TimeProposal) -> dict[str, Any]:
    return {
        "id": proposal.pk,
        "proposed_by": user_out(proposal.proposed_by),
        "by": "tutor" if proposal.by_tutor else "student",
        "scheduled_start": proposal.scheduled_start,
        "planned_minutes": proposal.planned_minutes,
        "message": proposal.message,
        "previous_start": proposal.previous_start,
        "previous_minutes": proposal.previous_minutes,
        "created_at": proposal.created_at,
    }


def session_out(
    session: Session,
    *,
    show_earnings: bool,
    proposal: TimeProposal | None = None,
    participants: Sequence[Participant] | None = None,
    corrections: Sequence[Correction] | None = None,
) -> dict[str, Any]:
    """Reads only what `selectors.with_details` (plus the earning) loaded, and the open
    `proposal` the caller looked up: no extra queries. A caller that already holds the
    session's `participants` (with their users) passes them instead of a prefetch, and one
    that knows its `corrections` (none, for a fresh completion) passes those."""
    if participants is None:
        participants = list(session.participants.all())
    completion = _completion_of(session)
    figures = (
        figures_of(
            completion, list(session.corrections.all()) if corrections is None else corrections
        )
        if completion is not None
        else None
    )
    earnings = logged_earnings = None
    if figures is not None and show_earnings:
        earnings = _money(figures.amount_cents, figures.currency)
        logged_earnings = _money(figures.logged_amount_cents, figures.currency)
    return {
        "id": session.pk,
        "status": session.status,
        "mode": session.mode,
        "location": session.location,
        "scheduled_start": session.scheduled_start,
        "planned_minutes": session.planned_minutes,
        "course": {
            "id": session.course.pk,
            "code": session.course.code,
            "title": session.course.title,
        },
        "organization": {"id": session.organization.pk, "name": session.organization.name},
        "tutor": user_out(session.tutor),
        "participants": [{"user": user_out(p.user), "state": p.state} for p in participants],
        "completion_deadline": deadline_of(session),
        "recorded_after_the_fact": session.recorded_after_the_fact,
        "notes": session.notes,
        "cancel_reason": session.cancel_reason,
        "missed_reason": session.missed_reason,
        "tutor_absence_reported": session.tutor_absence_reported_at is not None,
        "minutes": figures.minutes if figures is not None else None,
        "earnings": earnings,
        "logged_minutes": figures.logged_minutes if figures is not None else None,
        "logged_earnings": logged_earnings,
        "corrections": (
            [_correction_out(c, figures.currency, show_earnings) for c in figures.corrections]
            if figures is not None
            else []
        ),
        "recap": (
            {
                "topics_covered": completion.topics_covered,
                "tutee_progress": completion.tutee_progress,
                "next_steps": completion.next_steps,
            }
            if completion is not None
            else None
        ),
        "proposal": proposal_out(proposal) if proposal is not None else None,
    }


def transaction_out(entry: Entry) -> dict[str, Any]:
    transfer = entry.transfer
    return {
        "id": transfer.pk,
        "kind": transfer.kind,
        "amount_cents": entry.amount_cents,
        "currency": transfer.currency,
        "description": transfer.description,
        "created_at": transfer.created_at,
        "session_id": transfer.session_id,
    }


def _money(cents: int, currency: str) -> dict[str, Any]:
    return {"amount_cents": cents, "currency": currency}


def _correction_out(correction: Correction, currency: str, show_earnings: bool) -> dict[str, Any]:
    return {
        "kind": correction.kind,
        "minutes_before": correction.minutes_before,
        "minutes_after": correction.minutes_after,
        "amount_before": _money(correction.amount_before_cents, currency)
        if show_earnings
        else None,
        "amount_after": _money(correction.amount_after_cents, currency) if show_earnings else None,
        "reason": correction.reason if show_earnings else None,
        "created_at": correction.created_at,
    }


def _completion_of(session: Session) -> Completion | None:
    try:
        return session.completion
    except ObjectDoesNotExist:
        return None
