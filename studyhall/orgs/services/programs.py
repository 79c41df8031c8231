"""Programs: what an organization pays tutoring for, and within which budget.

Writes by the organization's admins: create, edit, archive (and reopen), add and remove
students.
Coverage and the budget left are decided at booking and completion (`tutoring.programs`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from studyhall.core.text import clean_text
from studyhall.orgs.models import (
    DEFAULT_PROGRAM_NAME,
    OPEN_END,
    OPEN_START,
    BudgetUnit,
    Course,
    Member,
    Membership,
    Organization,
    Program,
    Role,
)
from studyhall.orgs.services.access import admin_organization, require_transaction

NAME_MAX = 200
# A budget above a hundred million dollars (or hours) is a typo.
BUDGET_MAX = 10_000_000_000


@dataclass(frozen=True)
class ProgramInput:
    """A program as an admin describes it (a form or an API body, already typed)."""

    name: str
    starts_on: date
    ends_on: date
    budget_unit: str
    # Cents (money) or minutes (hours); None: no cap.
    budget_amount: int | None
    course_ids: Collection[int] = ()
    # None on an update: the students stay as they are (the console adds and removes them
    # one list at a time).
    student_ids: Collection[int] | None = ()
    tutor_ids: Collection[int] = ()
    is_default: bool = False


def open_default_program(organization: Organization) -> Program:
    """A new organization's default program: no cap, pays for whatever no program covers."""
    program, _ = Program.objects.get_or_create(
        organization=organization,
        is_default=True,
        defaults={
            "name": DEFAULT_PROGRAM_NAME,
            "starts_on": OPEN_START,
            "ends_on": OPEN_END,
            "budget_unit": BudgetUnit.MONEY,
            "budget_amount": None,
        },
    )
    return program


def create_program(*, organization_id: int, actor: User, data: ProgramInput) -> Program:
    require_transaction()
    organization = admin_organization(actor, organization_id, lock=data.is_default)
    cleaned = _clean(organization, data)
    if data.is_default:
        _clear_default(organization, actor)
    program = Program.objects.create(
        organization=organization,
        name=cleaned.name,
        starts_on=cleaned.starts_on,
        ends_on=cleaned.ends_on,
        budget_unit=cleaned.budget_unit,
        budget_amount=cleaned.budget_amount,
        is_default=cleaned.is_default,
    )
    program.courses.set(cleaned.course_ids)
    program.students.set(cleaned.student_ids or ())
    program.tutors.set(cleaned.tutor_ids)
    audit.record(
        actor=actor,
        action="program.created",
        organization_id=organization.pk,
        program_id=program.pk,
        **_facts(cleaned),
    )
    return program


def update_program(
    *, organization_id: int, program_id: int, actor: User, data: ProgramInput
) -> Program:
    require_transaction()
    organization = admin_organization(actor, organization_id, lock=data.is_default)
    program = _program(organization, program_id)
    if program.archived_at is not None:
        raise RuleViolation(
            f"{program.name} is archived; reopen it before changing it.", code="program_archived"
        )
    before = _facts(_current(program, with_students=data.student_ids is not None))
    cleaned = _clean(organization, data, except_id=program.pk)
    if data.is_default and not program.is_default:
        _clear_default(organization, actor)
    program.name = cleaned.name
    program.starts_on, program.ends_on = cleaned.starts_on, cleaned.ends_on
    program.budget_unit, program.budget_amount = cleaned.budget_unit, cleaned.budget_amount
    program.is_default = cleaned.is_default
    program.save(
        update_fields=["name", "starts_on", "ends_on", "budget_unit", "budget_amount", "is_default"]
    )
    program.courses.set(cleaned.course_ids)
    if cleaned.student_ids is not None:
        program.students.set(cleaned.student_ids)
    program.tutors.set(cleaned.tutor_ids)
    after = _facts(cleaned)
    if after != before:
        audit.record(
            actor=actor,
            action="program.updated",
            organization_id=organization.pk,
            program_id=program.pk,
            before=before,
            after=after,
        )
    return program


def set_program_archived(
    *, organization_id: int, program_id: int, actor: User, archived: bool
) -> Program:
    """An archived program books nothing new; the sessions already booked on it still complete
    against it (their cost was reserved when they were booked)."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    program = _program(organization, program_id)
    if (program.archived_at is not None) == archived:
        raise Conflict(
            f"{program.name} is already {'archived' if archived else 'open'}.",
            code="already_archived" if archived else "not_archived",
        )
    if archived and program.is_default:
        raise RuleViolation(
            f"{program.name} is the default program; make another program the default, or "
            "clear the default, before archiving it.",
            code="default_program_archived",
        )
    program.archived_at = timezone.now() if archived else None
    program.save(update_fields=["archived_at"])
    audit.record(
        actor=actor,
        action="program.archived" if archived else "program.reopened",
        organization_id=organization.pk,
        program_id=program.pk,
    )
    return program


def add_program_students(
    *, organization_id: int, program_id: int, actor: User, student_ids: Iterable[int]
) -> int:
    """Add students of the organization to a program; returns how many were new."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    program = _program(organization, program_id)
    wanted = set(_members(organization, list(student_ids), Role.STUDENT, field="students"))
    if not wanted:
        raise InvalidInput(
            "Choose students of this organization to add.", code="no_students", field="students"
        )
    already = set(program.students.filter(pk__in=wanted).values_list("pk", flat=True))
    new = sorted(wanted - already)
    if new:
        program.students.add(*new)
        audit.record(
            actor=actor,
            action="program.students_added",
            organization_id=organization.pk,
            program_id=program.pk,
            student_ids=new,
        )
    return len(new)


def remove_program_student(
    *, organization_id: int, program_id: int, actor: User, student_id: int
) -> bool:
    """Take a student out of a program (sessions already booked on it keep it); False when
    they were not in it."""
    require_transaction()
    organization = admin_organization(actor, organization_id)
    program = _program(organization, program_id)
    if not Member.objects.filter(organization=organization, user_id=student_id).exists():
        raise NotFound("There is no such person.")
    if not program.students.filter(pk=student_id).exists():
        return False
    program.students.remove(student_id)
    audit.record(
        actor=actor,
        action="program.student_removed",
        organization_id=organization.pk,
        program_id=program.pk,
        student_id=student_id,
    )
    return True


# -- helpers -------------------------------------------------------------------------------


def _program(organization: Organization, program_id: object) -> Program:
    if isinstance(program_id, bool) or not isinstance(program_id, int):
        raise NotFound("There is no such program.")
    program = (
        Program.objects.select_for_update().filter(organization=organization, pk=program_id).first()
    )
    if program is None:
        raise NotFound("There is no such program.")
    return program


def _clear_default(organization: Organization, actor: User) -> None:
    previous = Program.objects.filter(organization=organization, is_default=True).first()
    if previous is None:
        return
    Program.objects.filter(pk=previous.pk).update(is_default=False)
    audit.record(
        actor=actor,
        action="program.default_cleared",
        organization_id=organization.pk,
        program_id=previous.pk,
    )


def _current(program: Program, *, with_students: bool = True) -> ProgramInput:
    return ProgramInput(
        name=program.name,
        starts_on=program.starts_on,
        ends_on=program.ends_on,
        budget_unit=program.budget_unit,
        budget_amount=program.budget_amount,
        course_ids=sorted(program.courses.values_list("pk", flat=True)),
        student_ids=sorted(program.students.values_list("pk", flat=True))
        if with_students
        else None,
        tutor_ids=sorted(program.tutors.values_list("pk", flat=True)),
        is_default=program.is_default,
    )


def _facts(data: ProgramInput) -> dict[str, Any]:
    return {
        "name": data.name,
        "starts_on": data.starts_on.isoformat(),
        "ends_on": data.ends_on.isoformat(),
        "budget_unit": data.budget_unit,
        "budget_amount": data.budget_amount,
        "course_ids": sorted(data.course_ids),
        "tutor_ids": sorted(data.tutor_ids),
        "is_default": data.is_default,
    } | ({} if data.student_ids is None else {"student_ids": sorted(data.student_ids)})


def _clean(
    organization: Organization, data: ProgramInput, *, except_id: int | None = None
) -> ProgramInput:
    name = clean_text(" ".join((data.name or "").split()), field="Name", max_length=NAME_MAX)
    if not name:
        raise InvalidInput("Give the program a name.", code="invalid_program_name", field="name")
    taken = Program.objects.filter(organization=organization, name__iexact=name)
    if except_id is not None:
        taken = taken.exclude(pk=except_id)
    if taken.exists():
        raise Conflict(
            f"There is already a program called {name}.", code="program_name_taken", field="name"
        )
    if not isinstance(data.starts_on, date) or not isinstance(data.ends_on, date):
        raise InvalidInput(
            "Give the program's first and last day.", code="invalid_dates", field="starts_on"
        )
    if data.ends_on < data.starts_on:
        raise InvalidInput(
            "The program's last day comes before its first.", code="invalid_dates", field="ends_on"
        )
    if data.budget_unit not in BudgetUnit.values:
        raise InvalidInput(
            "Choose a budget in money or in hours.", code="invalid_budget", field="budget_unit"
        )
    amount = data.budget_amount
    if amount is not None and (
        isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= BUDGET_MAX
    ):
        raise InvalidInput(
            "The budget is zero or more (leave it blank for no cap).",
            code="invalid_budget",
            field="budget_amount",
        )
    course_ids = _ids(data.course_ids)
    known_courses = set(
        Course.objects.filter(organization=organization, pk__in=course_ids).values_list(
            "pk", flat=True
        )
    )
    if known_courses != set(course_ids):
        raise InvalidInput(
            "Choose courses of this organization.", code="unknown_course", field="courses"
        )
    student_ids = (
        None
        if data.student_ids is None
        else _members(organization, data.student_ids, Role.STUDENT, field="students")
    )
    tutor_ids = _members(organization, data.tutor_ids, Role.TUTOR, field="tutors")
    if not data.is_default and not course_ids:
        raise InvalidInput(
            "Choose the courses the program pays for.", code="no_courses", field="courses"
        )
    return ProgramInput(
        name=name,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        budget_unit=data.budget_unit,
        budget_amount=amount,
        course_ids=course_ids,
        student_ids=student_ids,
        tutor_ids=tutor_ids,
        is_default=bool(data.is_default),
    )


def _ids(values: Collection[int]) -> list[int]:
    ids = list(dict.fromkeys(values))
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidInput("Ids are whole numbers.", code="invalid_input")
    return sorted(ids)


def _members(
    organization: Organization, values: Collection[int], role: Role, *, field: str
) -> list[int]:
    ids = _ids(values)
    known = set(
        Membership.objects.filter(
            organization=organization, role=role, user_id__in=ids
        ).values_list("user_id", flat=True)
    )
    if known != set(ids):
        what = "students" if role == Role.STUDENT else "tutors"
        raise InvalidInput(
            f"Choose {what} of this organization.", code=f"unknown_{role}", field=field
        )
    return ids
