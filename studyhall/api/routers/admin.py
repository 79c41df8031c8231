"""The org admin's API: /api/v1/admin/orgs/{org_id}/… — people, courses, tutor approvals,
sessions, programs, policy and roster import, scoped to organizations the caller administers
(another organization answers 404, a member without the admin role 403). Errors are
problem+json."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Router, Schema
from ninja import Status as Reply
from ninja.files import UploadedFile
from ninja.params.functions import Query
from pydantic import Field, StrictBool, StrictInt, StrictStr

from studyhall.accounts.models import User
from studyhall.api.auth import BearerToken, BrowserSession, actor_of
from studyhall.api.schemas import LENGTH_VALUES, MODE_VALUES, Id, Input, ProblemOut
from studyhall.console import selectors
from studyhall.console.models import RosterImport
from studyhall.console.services import people as console_people
from studyhall.console.services import roster as roster_service
from studyhall.console.services.policy import change_policy
from studyhall.core.errors import InvalidInput, NotFound
from studyhall.orgs.models import (
    ApprovalStatus,
    Course,
    Member,
    MemberStatus,
    Organization,
    Program,
    Role,
    TutorCourse,
)
from studyhall.orgs.services import courses as course_service
from studyhall.orgs.services import people as people_service
from studyhall.orgs.services import programs as program_service
from studyhall.orgs.services.access import admin_organization
from studyhall.orgs.services.policy import POLICY_FIELDS
from studyhall.orgs.services.programs import ProgramInput
from studyhall.tutoring.models import Mode, Session, Status
from studyhall.tutoring.programs import usage_of
from studyhall.tutoring.services.scheduling import (
    NOTES_MAX_CHARS,
    REASON_MAX_CHARS,
    book_for_tutor,
    cancel_session,
)


def _require_admin(request: HttpRequest, user: User) -> User:
    """Before the body is read: the caller administers the organization in the path."""
    match = request.resolver_match
    org_id = match.kwargs.get("org_id") if match is not None else None
    admin_organization(user, org_id)
    return user


class AdminBearer(BearerToken):
    def authenticate(self, request: HttpRequest, token: str) -> User:
        return _require_admin(request, super().authenticate(request, token))


class AdminSession(BrowserSession):
    def __call__(self, request: HttpRequest) -> Any:
        user = super().__call__(request)
        return None if user is None else _require_admin(request, user)


# Every endpoint here checks the organization in its path at authentication, so a new
# endpoint cannot forget it (and bad input from an outsider is answered 404, not 422).
router = Router(tags=["admin"], auth=[AdminBearer(), AdminSession()])
ERRORS = {(400, 401, 403, 404, 409, 413, 422): ProblemOut}
MAX_LIMIT = 200


def _org(request: HttpRequest, org_id: int) -> Organization:
    return admin_organization(actor_of(request), org_id)


def _page(queryset: Any, limit: int, offset: int) -> tuple[list[Any], int | None]:
    rows = list(queryset[offset : offset + limit + 1])
    return rows[:limit], offset + limit if len(rows) > limit else None


# -- shapes --------------------------------------------------------------------------------


class PersonOut(Schema):
    user_id: int
    email: str
    name: str
    school_id: str
    status: str
    roles: list[str]


class PeopleOut(Schema):
    people: list[PersonOut]
    next_offset: int | None


class PersonInviteIn(Input):
    email: StrictStr = Field(max_length=254)
    roles: list[StrictStr] = Field(max_length=3)
    name: StrictStr = Field("", max_length=150)
    school_id: StrictStr = Field("", max_length=64)


class RolesIn(Input):
    roles: list[StrictStr] = Field(max_length=3)


class RateIn(Input):
    hourly_rate_cents: StrictInt | None = Field(
        description="Within the policy's bounds; null returns the tutor to the default rate."
    )


class RateOut(Schema):
    hourly_rate_cents: int


class EmployeeIdIn(Input):
    employee_id: StrictStr = Field(max_length=64)


class AdminCourseOut(Schema):
    id: int
    code: str
    title: str
    archived: bool


class CoursesOut(Schema):
    courses: list[AdminCourseOut]
    next_offset: int | None


class CourseIn(Input):
    code: StrictStr = Field(max_length=32)
    title: StrictStr = Field(max_length=200)


class CoursePatchIn(Input):
    code: StrictStr | None = Field(None, max_length=32)
    title: StrictStr | None = Field(None, max_length=200)
    archived: StrictBool | None = None


class EnrollIn(Input):
    student_ids: list[Id] = Field(min_length=1, max_length=1000)


class EnrolledOut(Schema):
    enrolled: int


class ApprovalIn(Input):
    status: StrictStr = Field(description="active or disabled")
    reason: StrictStr = Field("", max_length=2000)


class ApprovalOut(Schema):
    course_id: int
    course_code: str
    tutor_id: int
    tutor_email: str
    status: str
    note: str


class ApprovalsOut(Schema):
    approvals: list[ApprovalOut]
    next_offset: int | None


class AdminSessionOut(Schema):
    id: int
    course_code: str
    tutor_id: int
    tutor_email: str
    student_emails: list[str]
    mode: str
    status: str
    scheduled_start: datetime
    planned_minutes: int
    flagged: bool


class AdminSessionsOut(Schema):
    sessions: list[AdminSessionOut]
    next_offset: int | None


class BookIn(Input):
    """A session booked for a tutor: the students accept it, the tutor completes it."""

    tutor_id: Id
    course_id: Id
    student_ids: list[Id] = Field(min_length=1, max_length=50)
    mode: StrictStr = Field(description="`online` or `in_person`.", json_schema_extra=MODE_VALUES)
    location: StrictStr = Field("", description="Where an in-person session takes place.")
    scheduled_start: datetime = Field(
        description="ISO 8601 with an offset; up to the grace period in the past."
    )
    planned_minutes: StrictInt = Field(
        description="5, 10, 15 … 90 (or the org's maximum).", json_schema_extra=LENGTH_VALUES
    )
    notes: StrictStr = Field("", max_length=NOTES_MAX_CHARS)


class AdminCancelIn(Input):
    reason: StrictStr = Field(
        max_length=REASON_MAX_CHARS, description="Required; the tutor and students see it."
    )


class PolicyOut(Schema):
    grace_hours: int
    min_recap_chars: int
    default_hourly_rate_cents: int
    min_hourly_rate_cents: int
    max_hourly_rate_cents: int
    max_group_size: int
    max_session_minutes: int
    student_weekly_minutes_per_course: int
    tutor_weekly_minutes: int
    pair_sessions_per_day: int
    payout_provider: str
    payout_delay_days: int
    min_payout_cents: int
    time_zone: str
    currency: str
    signup_policy: str
    signup_email_domains: list[str]
    classroom_closes_minutes: int
    confirmations_required: bool
    auto_confirm_hours: int
    recap_check: str = Field(description="`refuse`, `flag` or `off`.")
    recap_similarity_percent: int
    state_1099_threshold_cents: int | None
    tutor_no_show_minutes: int = Field(
        description="Minutes after the start when an online session whose student waited "
        "without the tutor is missed as a tutor no-show."
    )
    no_show_warning_threshold: int = Field(description="No-shows in a term that warn; 0: off.")
    no_show_suspension_threshold: int = Field(
        description="No-shows in a term that suspend booking; 0: off."
    )


class PolicyIn(Input):
    """Only the settings sent change; each is validated with a message naming it."""

    grace_hours: StrictInt | None = None
    min_recap_chars: StrictInt | None = None
    default_hourly_rate_cents: StrictInt | None = None
    min_hourly_rate_cents: StrictInt | None = None
    max_hourly_rate_cents: StrictInt | None = None
    max_group_size: StrictInt | None = None
    max_session_minutes: StrictInt | None = None
    student_weekly_minutes_per_course: StrictInt | None = None
    tutor_weekly_minutes: StrictInt | None = None
    pair_sessions_per_day: StrictInt | None = None
    payout_provider: StrictStr | None = None
    payout_delay_days: StrictInt | None = None
    min_payout_cents: StrictInt | None = None
    time_zone: StrictStr | None = Field(None, max_length=64)
    currency: StrictStr | None = Field(None, max_length=3)
    signup_policy: StrictStr | None = None
    signup_email_domains: list[StrictStr] | None = Field(None, max_length=20)
    classroom_closes_minutes: StrictInt | None = None
    confirmations_required: StrictBool | None = None
    auto_confirm_hours: StrictInt | None = None
    recap_check: StrictStr | None = None
    recap_similarity_percent: StrictInt | None = None
    state_1099_threshold_cents: StrictInt | None = Field(
        None, description="null: no state threshold."
    )
    tutor_no_show_minutes: StrictInt | None = None
    no_show_warning_threshold: StrictInt | None = None
    no_show_suspension_threshold: StrictInt | None = None


class RosterOut(Schema):
    id: int
    filename: str
    status: str
    rows: int
    summary: dict[str, int]
    errors: list[dict[str, Any]]
    applied_at: datetime | None


class HomeOut(Schema):
    week_start: date
    sessions_completed: int
    contact_minutes: int
    unique_students: int
    active_tutors: int
    spend_cents: int
    currency: str
    logging_closed: int
    flagged: int
    unanswered_requests: int


def _person(member: Member) -> dict[str, Any]:
    return {
        "user_id": member.user_id,
        "email": member.user.email,
        "name": member.user.name,
        "school_id": member.school_id,
        "status": member.status,
        "roles": [m.role for m in getattr(member.user, "org_roles", [])],
    }


def _one_person(organization: Organization, user_id: int) -> dict[str, Any]:
    filters = selectors.PeopleFilters()
    member = selectors.people(organization, filters).filter(user_id=user_id).first()
    if member is None:
        raise NotFound("There is no such person in this organization.")
    return _person(member)


def _roster(r: RosterImport) -> dict[str, Any]:
    return {
        "id": r.pk,
        "filename": r.filename,
        "status": r.status,
        "rows": r.rows,
        "summary": r.summary,
        "errors": r.errors,
        "applied_at": r.applied_at,
    }


# -- home ----------------------------------------------------------------------------------


@router.get("/orgs/{int:org_id}/home", response={200: HomeOut, **ERRORS})
def home(request: HttpRequest, org_id: int) -> dict[str, Any]:
    """This week at a glance and the sizes of the Needs attention lists."""
    organization = _org(request, org_id)
    now = timezone.now()
    week = selectors.week_start(now.astimezone(organization.zone).date())
    start = selectors.local_midnight(week, organization)
    figures = selectors.figures(organization, start, now)
    return {
        "week_start": week,
        "sessions_completed": figures.sessions_completed,
        "contact_minutes": figures.contact_minutes,
        "unique_students": figures.unique_students,
        "active_tutors": figures.active_tutors,
        "spend_cents": figures.spend_cents,
        "currency": organization.currency,
        "logging_closed": selectors.logging_closed(organization, now=now).count(),
        "flagged": selectors.flagged(organization).count(),
        "unanswered_requests": selectors.unanswered_requests(organization, now=now).count(),
    }


# -- people --------------------------------------------------------------------------------


@router.get("/orgs/{int:org_id}/people", response={200: PeopleOut, **ERRORS})
def list_people(
    request: HttpRequest,
    org_id: int,
    role: str = Query("", description="student, tutor or admin"),
    status: str = Query("", description="invited, active or deactivated"),
    q: str = Query("", max_length=100, description="Name, email or school ID."),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    organization = _org(request, org_id)
    if role and role not in Role.values:
        raise InvalidInput("role must be student, tutor or admin.", code="invalid_role")
    if status and status not in MemberStatus.values:
        raise InvalidInput("status must be invited, active or deactivated.", code="invalid_status")
    qs = selectors.people(organization, selectors.PeopleFilters(role=role, status=status, q=q))
    rows, next_offset = _page(qs, limit, offset)
    return {"people": [_person(m) for m in rows], "next_offset": next_offset}


@router.post("/orgs/{int:org_id}/people", response={201: PersonOut, **ERRORS})
def invite(request: HttpRequest, org_id: int, payload: PersonInviteIn) -> Reply[dict[str, Any]]:
    """Invite someone by email with roles. Someone new to the organization is emailed an
    invitation: a link to set their password (a new account) or to sign in."""
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        member = console_people.invite_person(
            organization_id=organization.pk,
            actor=actor_of(request),
            email=payload.email,
            roles=payload.roles,
            name=payload.name,
            school_id=payload.school_id,
        )
    return Reply(201, _one_person(organization, member.user_id))


@router.get("/orgs/{int:org_id}/people/{int:user_id}", response={200: PersonOut, **ERRORS})
def get_person(request: HttpRequest, org_id: int, user_id: int) -> dict[str, Any]:
    return _one_person(_org(request, org_id), user_id)


@router.put("/orgs/{int:org_id}/people/{int:user_id}/roles", response={200: PersonOut, **ERRORS})
def put_roles(request: HttpRequest, org_id: int, user_id: int, payload: RolesIn) -> dict[str, Any]:
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        people_service.set_roles(
            organization_id=organization.pk,
            user_id=user_id,
            actor=actor_of(request),
            roles=payload.roles,
        )
    return _one_person(organization, user_id)


@router.post(
    "/orgs/{int:org_id}/people/{int:user_id}/deactivate", response={200: PersonOut, **ERRORS}
)
def deactivate(request: HttpRequest, org_id: int, user_id: int) -> dict[str, Any]:
    """They can no longer sign in (unless another organization keeps them) or be booked."""
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        people_service.deactivate_person(
            organization_id=organization.pk, user_id=user_id, actor=actor_of(request)
        )
    return _one_person(organization, user_id)


@router.post(
    "/orgs/{int:org_id}/people/{int:user_id}/reactivate", response={200: PersonOut, **ERRORS}
)
def reactivate(request: HttpRequest, org_id: int, user_id: int) -> dict[str, Any]:
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        people_service.reactivate_person(
            organization_id=organization.pk, user_id=user_id, actor=actor_of(request)
        )
    return _one_person(organization, user_id)


@router.put("/orgs/{int:org_id}/people/{int:user_id}/rate", response={200: RateOut, **ERRORS})
def put_rate(request: HttpRequest, org_id: int, user_id: int, payload: RateIn) -> dict[str, Any]:
    """A tutor's hourly rate, within the policy's bounds (`rate_out_of_bounds` otherwise)."""
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        cents = people_service.set_tutor_rate(
            organization_id=organization.pk,
            tutor_id=user_id,
            actor=actor_of(request),
            hourly_rate_cents=payload.hourly_rate_cents,
        )
    return {"hourly_rate_cents": cents}


@router.put(
    "/orgs/{int:org_id}/people/{int:user_id}/employee-id", response={200: PersonOut, **ERRORS}
)
def put_employee_id(
    request: HttpRequest, org_id: int, user_id: int, payload: EmployeeIdIn
) -> dict[str, Any]:
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        people_service.set_employee_id(
            organization_id=organization.pk,
            tutor_id=user_id,
            actor=actor_of(request),
            employee_id=payload.employee_id,
        )
    return _one_person(organization, user_id)


# -- programs ------------------------------------------------------------------------------


class ProgramIn(Input):
    name: StrictStr = Field(max_length=200)
    starts_on: date
    ends_on: date = Field(description="The program's last day, inclusive.")
    budget_unit: Literal["money", "hours"] = "money"
    budget_amount: StrictInt | None = Field(
        None, description="Cents for a money budget, minutes for an hours budget; null: no cap."
    )
    course_ids: list[StrictInt] = Field(default_factory=list, max_length=500)
    student_ids: list[StrictInt] = Field(default_factory=list, max_length=10_000)
    tutor_ids: list[StrictInt] = Field(
        default_factory=list, max_length=500, description="Empty: any approved tutor."
    )
    is_default: StrictBool = False


class ProgramPatchIn(Input):
    name: StrictStr | None = Field(None, max_length=200)
    starts_on: date | None = None
    ends_on: date | None = None
    budget_unit: Literal["money", "hours"] | None = None
    budget_amount: StrictInt | None = None
    clear_budget: StrictBool = Field(False, description="True removes the cap.")
    course_ids: list[StrictInt] | None = Field(None, max_length=500)
    student_ids: list[StrictInt] | None = Field(None, max_length=10_000)
    tutor_ids: list[StrictInt] | None = Field(None, max_length=500)
    is_default: StrictBool | None = None
    archived: StrictBool | None = None


class ProgramOut(Schema):
    id: int
    name: str
    starts_on: date
    ends_on: date
    budget_unit: str
    budget_amount: int | None
    is_default: bool
    archived: bool
    course_ids: list[int]
    tutor_ids: list[int]
    student_count: int
    spent: int = Field(description="In the budget's unit (cents or minutes), to date.")
    reserved: int = Field(description="What booked sessions hold at their planned length.")
    left: int | None


class ProgramsOut(Schema):
    programs: list[ProgramOut]
    next_offset: int | None


class ProgramStudentsIn(Input):
    student_ids: list[StrictInt] = Field(max_length=10_000)


class AddedOut(Schema):
    added: int


class RemovedOut(Schema):
    removed: bool


def _programs_out(programs: list[Program]) -> list[dict[str, Any]]:
    usage = usage_of(programs)
    return [
        {
            "id": p.pk,
            "name": p.name,
            "starts_on": p.starts_on,
            "ends_on": p.ends_on,
            "budget_unit": p.budget_unit,
            "budget_amount": p.budget_amount,
            "is_default": p.is_default,
            "archived": p.archived_at is not None,
            "course_ids": sorted(c.pk for c in p.courses.all()),
            "tutor_ids": sorted(t.pk for t in p.tutors.all()),
            "student_count": p.student_count,  # type: ignore[attr-defined]
            "spent": usage[p.pk].spent,
            "reserved": usage[p.pk].reserved,
            "left": usage[p.pk].left,
        }
        for p in programs
    ]


def _one_program(organization: Organization, program_id: int) -> dict[str, Any]:
    program = (
        selectors.programs(organization, archived=None)
        .filter(pk=program_id)
        .prefetch_related("courses", "tutors")
        .first()
    )
    if program is None:
        raise NotFound("There is no such program.")
    return _programs_out([program])[0]


@router.get("/orgs/{int:org_id}/programs", response={200: ProgramsOut, **ERRORS})
def list_programs(
    request: HttpRequest,
    org_id: int,
    archived: bool = False,
    q: str = Query("", max_length=100),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    """The organization's programs with their spend against budget."""
    organization = _org(request, org_id)
    rows, next_offset = _page(
        selectors.programs(organization, q=q, archived=archived).prefetch_related(
            "courses", "tutors"
        ),
        limit,
        offset,
    )
    return {"programs": _programs_out(rows), "next_offset": next_offset}


@router.post("/orgs/{int:org_id}/programs", response={201: ProgramOut, **ERRORS})
def create_program(request: HttpRequest, org_id: int, payload: ProgramIn) -> Reply[dict[str, Any]]:
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        program = program_service.create_program(
            organization_id=organization.pk,
            actor=actor_of(request),
            data=ProgramInput(**payload.model_dump()),
        )
    return Reply(201, _one_program(organization, program.pk))


@router.get("/orgs/{int:org_id}/programs/{int:program_id}", response={200: ProgramOut, **ERRORS})
def get_program(request: HttpRequest, org_id: int, program_id: int) -> dict[str, Any]:
    return _one_program(_org(request, org_id), program_id)


@router.patch("/orgs/{int:org_id}/programs/{int:program_id}", response={200: ProgramOut, **ERRORS})
def patch_program(
    request: HttpRequest, org_id: int, program_id: int, payload: ProgramPatchIn
) -> dict[str, Any]:
    """Change what is given; `archived` archives or reopens. Students listed replace them."""
    organization = _org(request, org_id)
    program = selectors.program(organization, program_id)
    if program is None:
        raise NotFound("There is no such program.")
    actor = actor_of(request)
    changes = payload.model_dump(exclude_unset=True)
    archived = changes.pop("archived", None)
    clear = changes.pop("clear_budget", False)
    with transaction.atomic(durable=True):
        if archived is False and program.archived_at is not None:
            program = program_service.set_program_archived(
                organization_id=organization.pk, program_id=program.pk, actor=actor, archived=False
            )
        if changes or clear:
            current: dict[str, Any] = {
                "name": program.name,
                "starts_on": program.starts_on,
                "ends_on": program.ends_on,
                "budget_unit": program.budget_unit,
                "budget_amount": None if clear else program.budget_amount,
                "course_ids": list(program.courses.values_list("pk", flat=True)),
                "student_ids": None,
                "tutor_ids": list(program.tutors.values_list("pk", flat=True)),
                "is_default": program.is_default,
            }
            current.update(
                {k: v for k, v in changes.items() if v is not None or k == "budget_amount"}
            )
            program = program_service.update_program(
                organization_id=organization.pk,
                program_id=program.pk,
                actor=actor,
                data=ProgramInput(**current),
            )
        if archived is True and program.archived_at is None:
            program_service.set_program_archived(
                organization_id=organization.pk, program_id=program.pk, actor=actor, archived=True
            )
    return _one_program(organization, program_id)


@router.delete("/orgs/{int:org_id}/programs/{int:program_id}", response={200: ProgramOut, **ERRORS})
def archive_program(request: HttpRequest, org_id: int, program_id: int) -> dict[str, Any]:
    """Programs are archived, never deleted: the sessions they paid for keep naming them."""
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        program_service.set_program_archived(
            organization_id=organization.pk,
            program_id=program_id,
            actor=actor_of(request),
            archived=True,
        )
    return _one_program(organization, program_id)


@router.post(
    "/orgs/{int:org_id}/programs/{int:program_id}/students", response={200: AddedOut, **ERRORS}
)
def add_program_students(
    request: HttpRequest, org_id: int, program_id: int, payload: ProgramStudentsIn
) -> dict[str, Any]:
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        added = program_service.add_program_students(
            organization_id=organization.pk,
            program_id=program_id,
            actor=actor_of(request),
            student_ids=payload.student_ids,
        )
    return {"added": added}


@router.delete(
    "/orgs/{int:org_id}/programs/{int:program_id}/students/{int:user_id}",
    response={200: RemovedOut, **ERRORS},
)
def remove_program_student(
    request: HttpRequest, org_id: int, program_id: int, user_id: int
) -> dict[str, Any]:
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        removed = program_service.remove_program_student(
            organization_id=organization.pk,
            program_id=program_id,
            actor=actor_of(request),
            student_id=user_id,
        )
    return {"removed": removed}


# -- courses and approvals -----------------------------------------------------------------


def _course(c: Course) -> dict[str, Any]:
    return {"id": c.pk, "code": c.code, "title": c.title, "archived": c.archived_at is not None}


@router.get("/orgs/{int:org_id}/courses", response={200: CoursesOut, **ERRORS})
def list_courses(
    request: HttpRequest,
    org_id: int,
    archived: bool = False,
    q: str = Query("", max_length=100),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    organization = _org(request, org_id)
    rows, next_offset = _page(
        selectors.courses(organization, q=q, archived=archived), limit, offset
    )
    return {"courses": [_course(c) for c in rows], "next_offset": next_offset}


@router.post("/orgs/{int:org_id}/courses", response={201: AdminCourseOut, **ERRORS})
def create_course(request: HttpRequest, org_id: int, payload: CourseIn) -> Reply[dict[str, Any]]:
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        course = course_service.create_course(
            organization_id=organization.pk,
            actor=actor_of(request),
            code=payload.code,
            title=payload.title,
        )
    return Reply(201, _course(course))


@router.patch(
    "/orgs/{int:org_id}/courses/{int:course_id}", response={200: AdminCourseOut, **ERRORS}
)
def patch_course(
    request: HttpRequest, org_id: int, course_id: int, payload: CoursePatchIn
) -> dict[str, Any]:
    organization = _org(request, org_id)
    course = selectors.course(organization, course_id)
    if course is None:
        raise NotFound("There is no such course.")
    actor = actor_of(request)
    with transaction.atomic(durable=True):
        if payload.code is not None or payload.title is not None:
            course = course_service.update_course(
                organization_id=organization.pk,
                course_id=course.pk,
                actor=actor,
                code=payload.code if payload.code is not None else course.code,
                title=payload.title if payload.title is not None else course.title,
            )
        if payload.archived is not None and payload.archived != (course.archived_at is not None):
            course = course_service.set_archived(
                organization_id=organization.pk,
                course_id=course.pk,
                actor=actor,
                archived=payload.archived,
            )
    return _course(course)


@router.post(
    "/orgs/{int:org_id}/courses/{int:course_id}/enrollments",
    response={200: EnrolledOut, **ERRORS},
)
def enroll(request: HttpRequest, org_id: int, course_id: int, payload: EnrollIn) -> dict[str, Any]:
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        added = course_service.enroll_students(
            organization_id=organization.pk,
            course_id=course_id,
            actor=actor_of(request),
            student_ids=payload.student_ids,
        )
    return {"enrolled": added}


def _approval(a: TutorCourse) -> dict[str, Any]:
    return {
        "course_id": a.course_id,
        "course_code": a.course.code,
        "tutor_id": a.tutor_id,
        "tutor_email": a.tutor.email,
        "status": a.status,
        "note": a.note,
    }


@router.put(
    "/orgs/{int:org_id}/courses/{int:course_id}/tutors/{int:tutor_id}",
    response={200: ApprovalOut, **ERRORS},
)
def put_approval(
    request: HttpRequest, org_id: int, course_id: int, tutor_id: int, payload: ApprovalIn
) -> dict[str, Any]:
    """Approve (active) or disable/decline (disabled) a tutor for a course."""
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        approval = course_service.set_approval(
            organization_id=organization.pk,
            course_id=course_id,
            tutor_id=tutor_id,
            actor=actor_of(request),
            status=payload.status,
            reason=payload.reason,
        )
    return _approval(TutorCourse.objects.select_related("course", "tutor").get(pk=approval.pk))


@router.get("/orgs/{int:org_id}/approvals", response={200: ApprovalsOut, **ERRORS})
def list_approvals(
    request: HttpRequest,
    org_id: int,
    status: str = Query("", description="unverified, active or disabled"),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    organization = _org(request, org_id)
    if status and status not in ApprovalStatus.values:
        raise InvalidInput("status must be unverified, active or disabled.", code="invalid_status")
    rows, next_offset = _page(selectors.approvals(organization, status=status), limit, offset)
    return {"approvals": [_approval(a) for a in rows], "next_offset": next_offset}


# -- sessions ------------------------------------------------------------------------------


@router.get("/orgs/{int:org_id}/sessions", response={200: AdminSessionsOut, **ERRORS})
def list_sessions(
    request: HttpRequest,
    org_id: int,
    status: str = Query(""),
    mode: str = Query(""),
    course_id: int | None = Query(None, ge=1),
    tutor_id: int | None = Query(None, ge=1),
    student_id: int | None = Query(None, ge=1),
    since: date | None = None,
    until: date | None = None,
    flagged: bool = False,
    q: str = Query("", max_length=100),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    organization = _org(request, org_id)
    if status and status not in Status.values:
        raise InvalidInput(
            f"Unknown status; use one of: {', '.join(Status.values)}.", code="invalid_status"
        )
    if mode and mode not in Mode.values:
        raise InvalidInput("mode must be online or in_person.", code="invalid_mode")
    filters = selectors.SessionFilters(
        status=status,
        course_id=course_id,
        tutor_id=tutor_id,
        student_id=student_id,
        mode=mode,
        since=since,
        until=until,
        flagged=flagged,
        q=q,
    )
    rows, next_offset = _page(selectors.sessions(organization, filters), limit, offset)
    return {"sessions": [_session(s) for s in rows], "next_offset": next_offset}


@router.post("/orgs/{int:org_id}/sessions", response={201: AdminSessionOut, **ERRORS})
def book(request: HttpRequest, org_id: int, payload: BookIn) -> Reply[dict[str, Any]]:
    """Book a session for a tutor (a walk-in, or an in-person session that already took place
    within the grace period). The same booking rules and limits hold as for the tutor's own
    invitation; the students are asked to accept it, and only the tutor completes it."""
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        session = book_for_tutor(
            actor=actor_of(request),
            organization_id=organization.pk,
            tutor_id=payload.tutor_id,
            student_ids=payload.student_ids,
            course_id=payload.course_id,
            mode=payload.mode,
            location=payload.location,
            scheduled_start=payload.scheduled_start,
            planned_minutes=payload.planned_minutes,
            notes=payload.notes,
        )
    return Reply(201, _session(_session_in(organization, session.pk)))


@router.post(
    "/orgs/{int:org_id}/sessions/{int:session_id}/cancel",
    response={200: AdminSessionOut, **ERRORS},
)
def cancel(
    request: HttpRequest, org_id: int, session_id: int, payload: AdminCancelIn
) -> dict[str, Any]:
    """Cancel a session that has not taken place, with a reason its tutor and students see."""
    organization = _org(request, org_id)
    found = _session_in(organization, session_id)
    with transaction.atomic(durable=True):
        cancel_session(session_id=found.pk, actor=actor_of(request), reason=payload.reason)
    return _session(_session_in(organization, found.pk))


def _session_in(organization: Organization, session_id: int) -> Session:
    found = selectors.session_of(organization, session_id)
    if found is None:
        raise NotFound("There is no such session in this organization.")
    return found


def _session(s: Session) -> dict[str, Any]:
    return {
        "id": s.pk,
        "course_code": s.course.code,
        "tutor_id": s.tutor_id,
        "tutor_email": s.tutor.email,
        "student_emails": [p.user.email for p in s.participants.all()],
        "mode": s.mode,
        "status": s.status,
        "scheduled_start": s.scheduled_start,
        "planned_minutes": s.planned_minutes,
        "flagged": selectors.is_flagged(s),
    }


# -- policy --------------------------------------------------------------------------------


def _policy(organization: Organization) -> dict[str, Any]:
    return {f: getattr(organization, f) for f in POLICY_FIELDS}


@router.get("/orgs/{int:org_id}/policy", response={200: PolicyOut, **ERRORS})
def get_policy(request: HttpRequest, org_id: int) -> dict[str, Any]:
    return _policy(_org(request, org_id))


@router.patch("/orgs/{int:org_id}/policy", response={200: PolicyOut, **ERRORS})
def patch_policy(request: HttpRequest, org_id: int, payload: PolicyIn) -> dict[str, Any]:
    """Change some settings; they apply from now on, never to past completions."""
    organization = _org(request, org_id)
    changes = payload.model_dump(exclude_unset=True)
    with transaction.atomic(durable=True):
        change_policy(organization_id=organization.pk, actor=actor_of(request), changes=changes)
    organization.refresh_from_db()
    return _policy(organization)


# -- roster import -------------------------------------------------------------------------


@router.post("/orgs/{int:org_id}/roster", response={201: RosterOut, **ERRORS})
def upload_roster(
    request: HttpRequest,
    org_id: int,
    file: File[UploadedFile],
    deactivate_missing: Form[bool] = False,
) -> Reply[dict[str, Any]]:
    """The dry run: a multipart upload of the CSV (field `file`). Returns what applying would
    change and each row's errors; apply it with POST …/roster/{id}/apply."""
    organization = _org(request, org_id)
    roster_service.check_size(file.size or 0)
    with transaction.atomic(durable=True):
        checked = roster_service.check_roster(
            organization_id=organization.pk,
            actor=actor_of(request),
            filename=file.name or "roster.csv",
            data=file.read(),
            deactivate_missing=deactivate_missing,
        )
    return Reply(201, _roster(checked))


@router.get("/orgs/{int:org_id}/roster/{int:import_id}", response={200: RosterOut, **ERRORS})
def get_roster(request: HttpRequest, org_id: int, import_id: int) -> dict[str, Any]:
    organization = _org(request, org_id)
    found = selectors.roster_import(organization, import_id)
    if found is None:
        raise NotFound("There is no such roster import.")
    return _roster(found)


@router.post("/orgs/{int:org_id}/roster/{int:import_id}/apply", response={200: RosterOut, **ERRORS})
def apply_roster(request: HttpRequest, org_id: int, import_id: int) -> dict[str, Any]:
    """Apply a checked file: all of it or nothing; applying it again changes nothing."""
    organization = _org(request, org_id)
    with transaction.atomic(durable=True):
        roster_service.apply_roster(
            organization_id=organization.pk, import_id=import_id, actor=actor_of(request)
        )
    return _roster(RosterImport.objects.get(pk=import_id))
