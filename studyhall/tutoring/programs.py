"""Which program pays for a session, and what each program has left.

A program covers a session when the session's day (in the organization's zone) falls in its
date range, it pays for the session's course, every student on the session is one of its
students, and it either names no tutors or names the session's tutor. The organization's
default program pays for sessions no other program covers. Archived programs cover nothing new.

What a budget holds (docs/adr/0013-programs-and-budgets.md):
- **spent**: what completed sessions cost. For a money budget, the program's ledger account
  (earnings less reversals, adjustments either way); for an hours budget, the minutes logged,
  corrected the same way.
- **reserved**: what booked sessions that have not taken place yet would cost at their planned
  length (and, for money, their tutor's rate now): requested, invited, scheduled, starting and
  in-progress sessions. Canceled, declined and missed ones release it.
- **left** = budget − spent − reserved. Booking refuses a session whose planned cost is more
  than what is left; completion spends the logged cost, and refuses only what its own
  reservation cannot cover when the rest of the budget cannot either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, F, OuterRef, Q, Sum

from studyhall.accounts.models import User
from studyhall.core.errors import RuleViolation
from studyhall.core.money import earnings_cents
from studyhall.ledger.models import AccountKind, Entry
from studyhall.ledger.services import program_account_id_expression
from studyhall.orgs.models import BudgetUnit, Course, Organization, Program
from studyhall.orgs.selectors import hourly_rate_cents, hourly_rate_expression
from studyhall.tutoring.models import Correction, Session, Status
from studyhall.tutoring.text import names

# Sessions whose planned cost is held against their program until they end.
RESERVING_STATUSES = (
    Status.REQUESTED,
    Status.INVITED,
    Status.SCHEDULED,
    Status.STARTING,
    Status.IN_PROGRESS,
)


@dataclass(frozen=True)
class Usage:
    """A program's budget, in its unit (cents or minutes)."""

    program: Program
    spent: int
    reserved: int

    @property
    def budget(self) -> int | None:
        return self.program.budget_amount

    @property
    def left(self) -> int | None:
        if self.budget is None:
            return None
        return self.budget - self.spent - self.reserved

    @property
    def spent_share(self) -> float:
        """Spent as a share of the budget, 0 to 1 (for a bar); 0 without a cap."""
        if not self.budget:
            return 1.0 if self.budget == 0 and self.spent else 0.0
        return max(0.0, min(1.0, self.spent / self.budget))

    @property
    def reserved_share(self) -> float:
        if not self.budget:
            return 0.0
        return max(0.0, min(1.0 - self.spent_share, self.reserved / self.budget))

    @property
    def spent_percent(self) -> str:
        """For an SVG width: 0 to 100 with one decimal, as text."""
        return f"{self.spent_share * 100:.1f}"

    @property
    def reserved_percent(self) -> str:
        return f"{self.reserved_share * 100:.1f}"

    @property
    def spent_label(self) -> str:
        return self.program.format_amount(self.spent)

    @property
    def reserved_label(self) -> str:
        return self.program.format_amount(self.reserved)

    @property
    def left_label(self) -> str:
        return "No cap" if self.left is None else self.program.format_amount(self.left)

    @property
    def over_budget(self) -> bool:
        return self.left is not None and self.left < 0


def cost(program: Program, *, minutes: int, rate_cents: int) -> int:
    """What a session of `minutes` at `rate_cents` an hour uses of the program's budget."""
    if program.budget_unit == BudgetUnit.HOURS:
        return minutes
    return earnings_cents(hourly_rate_cents=rate_cents, minutes=minutes)


def usage_of(
    programs: Sequence[Program], *, exclude_session_id: int | None = None
) -> dict[int, Usage]:
    """Each program's spent and reserved amounts, in four queries whatever their number."""
    ids = [p.pk for p in programs]
    money = [p.pk for p in programs if p.budget_unit == BudgetUnit.MONEY]
    hours = [p.pk for p in programs if p.budget_unit == BudgetUnit.HOURS]
    spent: dict[int, int] = defaultdict(int)
    if money:
        for program_id, total in (
            Entry.objects.filter(
                account__kind=AccountKind.PROGRAM_BUDGET, account__program_id__in=money
            )
            .values("account__program_id")
            .annotate(total=Sum("amount_cents"))
            .values_list("account__program_id", "total")
        ):
            spent[program_id] -= int(total or 0)
    if hours:
        for program_id, total in (
            Session.objects.filter(program_id__in=hours, status=Status.COMPLETED)
            .values("program_id")
            .annotate(total=Sum("completion__minutes"))
            .values_list("program_id", "total")
        ):
            spent[program_id] += int(total or 0)
        for program_id, total in (
            Correction.objects.filter(session__program_id__in=hours)
            .values("session__program_id")
            .annotate(total=Sum(F("minutes_after") - F("minutes_before")))
            .values_list("session__program_id", "total")
        ):
            spent[program_id] += int(total or 0)
    reserved: dict[int, int] = defaultdict(int)
    by_id = {p.pk: p for p in programs}
    if ids:
        booked = Session.objects.filter(program_id__in=ids, status__in=RESERVING_STATUSES)
        if exclude_session_id is not None:
            booked = booked.exclude(pk=exclude_session_id)
        for program_id, minutes, rate in booked.annotate(
            rate_cents=hourly_rate_expression()
        ).values_list("program_id", "planned_minutes", "rate_cents"):
            reserved[program_id] += cost(by_id[program_id], minutes=minutes, rate_cents=rate)
    return {p.pk: Usage(program=p, spent=spent[p.pk], reserved=reserved[p.pk]) for p in programs}


@dataclass(frozen=True)
class Funding:
    program: Program
    cost: int


def choose_program(
    *,
    organization: Organization,
    course: Course,
    tutor: User,
    students: Sequence[User],
    start: datetime,
    minutes: int,
    rate_cents: int,
    actor: User,
    lock: bool,
    exclude_session_id: int | None = None,
) -> Funding:
    """The program that pays for a session, or a refusal that says why none can.

    Among the programs that cover it, the first (soonest to end) with enough left; if none
    covers it, the default program. `lock` holds the candidate programs' rows until the
    transaction ends (booking: two bookings cannot both take what is left).

    One query reads the candidates and the default program together, each with the id of its
    budget account (`budget_account_id`, None until it exists). What a program has left is
    counted only for the capped programs tried before the first one without a cap.
    """
    day = start.astimezone(organization.zone).date()
    pays_for_course = Program.courses.through.objects.filter(
        program_id=OuterRef("pk"), course_id=course.pk
    )
    found: list[Program] = list(
        Program.objects.filter(organization=organization, archived_at__isnull=True)
        .filter(
            Q(Exists(pays_for_course), is_default=False)
            | Q(is_default=True, starts_on__lte=day, ends_on__gte=day)
        )
        .annotate(budget_account_id=program_account_id_expression(currency=organization.currency))
        .order_by("ends_on", "pk")
    )
    candidates = [p for p in found if not p.is_default]
    student_ids = {s.pk for s in students}
    members = _members_of([p.pk for p in candidates], student_ids)
    tutors = _tutors_of([p.pk for p in candidates])
    covering = [
        p
        for p in candidates
        if p.starts_on <= day <= p.ends_on
        and student_ids <= members[p.pk]
        and (not tutors[p.pk] or tutor.pk in tutors[p.pk])
    ]
    refusal: RuleViolation | None = None
    if not covering:
        refusal = _why_not_covered(
            candidates=candidates,
            members=members,
            tutors=tutors,
            course=course,
            tutor=tutor,
            students=students,
            day=day,
            actor=actor,
        )
        defaults = [p for p in found if p.is_default]
        if not defaults:
            raise refusal
        covering = [min(defaults, key=lambda p: p.pk)]
    if lock:
        list(
            Program.objects.select_for_update()
            .filter(pk__in=[p.pk for p in covering])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    capped: list[Program] = []
    for program in covering:
        if program.budget_amount is None:
            break
        capped.append(program)
    usage = usage_of(capped, exclude_session_id=exclude_session_id) if capped else {}
    for program in covering:
        needed = cost(program, minutes=minutes, rate_cents=rate_cents)
        if program.budget_amount is None:
            return Funding(program=program, cost=needed)
        left = usage[program.pk].left
        if left is None or needed <= left:
            return Funding(program=program, cost=needed)
    # Every covering program is capped and none has enough left.
    fullest = max(covering, key=lambda p: usage[p.pk].left or 0)
    raise budget_refusal(
        usage[fullest.pk],
        needed=cost(fullest, minutes=minutes, rate_cents=rate_cents),
        minutes=minutes,
    )


def check_new_time(session: Session, *, start: datetime, minutes: int) -> None:
    """A booked session moving to `start` for `minutes` (a proposed or accepted new time)
    stays with the program it was booked on, so that program must still pay for it there:
    not archived, the new day in its dates, and its budget able to hold the new planned cost
    beside everything else it has reserved. Refused as booking refuses, naming the program.
    Locks the program's row until the transaction ends, as booking does."""
    if session.program_id is None:
        return
    program = Program.objects.select_for_update().get(pk=session.program_id)
    organization = session.organization
    if program.archived_at is not None:
        raise RuleViolation(
            f"{program.name}, which pays for this session, is no longer active; it pays "
            "for no new times. Ask your program admin.",
            code="program_inactive",
            program_id=program.pk,
            field="scheduled_start",
        )
    day = start.astimezone(organization.zone).date()
    if not program.starts_on <= day <= program.ends_on:
        raise RuleViolation(
            f"{program.name} pays for {session.course.code} from {_day(program.starts_on)} "
            f"to {_day(program.ends_on)}; the new time is on {_day(day)}.",
            code="outside_program_dates",
            program_id=program.pk,
            field="scheduled_start",
        )
    if program.budget_amount is None:
        return  # no cap: nothing to run out of
    rate = hourly_rate_cents(organization=organization, tutor_id=session.tutor_id)
    needed = cost(program, minutes=minutes, rate_cents=rate)
    usage = usage_of([program], exclude_session_id=session.pk)[program.pk]
    if usage.left is not None and needed > usage.left:
        raise budget_refusal(usage, needed=needed, minutes=minutes)


def budget_refusal(usage: Usage, *, needed: int, minutes: int) -> RuleViolation:
    program = usage.program
    left = max(usage.left or 0, 0)
    return RuleViolation(
        f"{program.name} has {program.format_amount(left)} left of its "
        f"{program.format_amount(usage.budget or 0)} budget; this {minutes}-minute session "
        f"needs {program.format_amount(needed)}. Ask your program admin about its budget.",
        code="program_budget_exhausted",
        program_id=program.pk,
        left=left,
        needed=needed,
        unit=program.budget_unit,
    )


def _members_of(program_ids: list[int], student_ids: set[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    if program_ids and student_ids:
        rows = Program.students.through.objects.filter(
            program_id__in=program_ids, user_id__in=student_ids
        ).values_list("program_id", "user_id")
        for program_id, user_id in rows:
            found[program_id].add(user_id)
    return found


def _tutors_of(program_ids: list[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    if program_ids:
        rows = Program.tutors.through.objects.filter(program_id__in=program_ids).values_list(
            "program_id", "user_id"
        )
        for program_id, user_id in rows:
            found[program_id].add(user_id)
    return found


def _why_not_covered(
    *,
    candidates: list[Program],
    members: dict[int, set[int]],
    tutors: dict[int, set[int]],
    course: Course,
    tutor: User,
    students: Sequence[User],
    day: date,
    actor: User,
) -> RuleViolation:
    """The clearest reason no program covers the session, naming who and what."""
    outside = [s for s in students if not any(s.pk in members[p.pk] for p in candidates)]
    if outside:
        if [s.pk for s in outside] == [actor.pk]:
            message = (
                f"You aren't in a program that covers {course.code}; your program admin "
                "decides whose tutoring is paid for."
            )
        else:
            verb = "isn't" if len(outside) == 1 else "aren't"
            message = f"{names(outside)} {verb} in a program that covers {course.code}."
        return RuleViolation(
            message, code="not_in_program", user_ids=[s.pk for s in outside], field="students"
        )
    for_all = [p for p in candidates if {s.pk for s in students} <= members[p.pk]]
    if not for_all:
        return RuleViolation(
            f"No one program covers {names(list(students))} together in {course.code}; book "
            "them in separate sessions.",
            code="not_in_one_program",
            field="students",
        )
    in_dates = [p for p in for_all if p.starts_on <= day <= p.ends_on]
    if not in_dates:
        program = for_all[0]
        return RuleViolation(
            f"{program.name} pays for {course.code} from {_day(program.starts_on)} to "
            f"{_day(program.ends_on)}; this session is on {_day(day)}.",
            code="outside_program_dates",
            program_id=program.pk,
            field="scheduled_start",
        )
    program = in_dates[0]
    return RuleViolation(
        f"{program.name} pays for {course.code} sessions with its own tutors only, and "
        f"{tutor.display_name} isn't one of them.",
        code="tutor_not_in_program",
        program_id=program.pk,
        field="tutor",
    )


def _day(value: date) -> str:
    return f"{value:%b} {value.day}, {value.year}"
