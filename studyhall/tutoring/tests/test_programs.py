"""Programs at booking and completion: who is covered, what is reserved, what is spent, and
the ledger account each program's spending lands on."""

from __future__ import annotations

import contextlib
import io
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from studyhall.core.errors import RuleViolation
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import Account, AccountKind, Entry, Transfer, TransferKind
from studyhall.ledger.selectors import balance_cents
from studyhall.ledger.services import post_transfer, program_account, tutor_account
from studyhall.orgs.models import BudgetUnit, Program
from studyhall.testing import factories as f
from studyhall.tutoring.models import Mode, Session, Status
from studyhall.tutoring.programs import usage_of
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.corrections import adjust_completion_minutes, void_completion
from studyhall.tutoring.services.scheduling import cancel_session, create_session

if TYPE_CHECKING:
    from conftest import Cast


def _no_default(cast: Cast) -> None:
    Program.objects.filter(organization=cast.org, is_default=True).delete()


def invite(cast: Cast, *students: Any, **overrides: Any) -> Session:
    kwargs: dict[str, Any] = {
        "actor": cast.tutor,
        "organization_id": cast.org.pk,
        "course_id": cast.course.pk,
        "mode": Mode.IN_PERSON,
        "location": "Science library, room 2",
        "scheduled_start": timezone.now() + timedelta(days=1),
        "planned_minutes": 60,
        "student_ids": [s.pk for s in students or (cast.student,)],
    }
    kwargs.update(overrides)
    return create_session(**kwargs)


def refusal(call: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        call()
    return caught.value


def test_a_student_outside_every_program_is_refused_with_a_clear_message(cast: Cast) -> None:
    _no_default(cast)
    f.make_program(cast.org, name="STEM grant", courses=[cast.course], students=[cast.student2])
    error = refusal(lambda: invite(cast, cast.student))
    assert error.code == "not_in_program"
    assert error.message == "Maya Chen isn't in a program that covers CHEM 110."
    assert error.extra == {"user_ids": [cast.student.pk], "field": "students"}
    assert Session.objects.count() == 0
    assert not AuditEntry.objects.filter(action="session.created").exists()


def test_a_student_asking_for_themselves_reads_it_in_the_second_person(cast: Cast) -> None:
    _no_default(cast)
    error = refusal(
        lambda: create_session(
            actor=cast.student,
            organization_id=cast.org.pk,
            course_id=cast.course.pk,
            mode=Mode.ONLINE,
            scheduled_start=timezone.now() + timedelta(days=1),
            planned_minutes=30,
            tutor_id=cast.tutor.pk,
        )
    )
    assert error.message == (
        "You aren't in a program that covers CHEM 110; your program admin decides whose "
        "tutoring is paid for."
    )
    assert Session.objects.count() == 0


def test_the_other_reasons_name_the_program(cast: Cast) -> None:
    _no_default(cast)
    today = timezone.localdate()
    grant = f.make_program(
        cast.org,
        name="STEM grant",
        courses=[cast.course],
        students=[cast.student],
        tutors=[cast.other_tutor],
    )
    error = refusal(lambda: invite(cast, cast.student))
    assert (error.code, error.message) == (
        "tutor_not_in_program",
        "STEM grant pays for CHEM 110 sessions with its own tutors only, and Tess Tutor "
        "isn't one of them.",
    )
    grant.tutors.clear()
    Program.objects.filter(pk=grant.pk).update(
        starts_on=today + timedelta(days=10), ends_on=date(2099, 1, 31)
    )
    start = timezone.now() + timedelta(days=1)
    error = refusal(lambda: invite(cast, cast.student, scheduled_start=start))
    first = today + timedelta(days=10)
    day = start.astimezone(cast.org.zone).date()
    assert (error.code, error.message) == (
        "outside_program_dates",
        f"STEM grant pays for CHEM 110 from {first:%b} {first.day}, {first.year} to "
        f"Jan 31, 2099; this session is on {day:%b} {day.day}, {day.year}.",
    )
    Program.objects.filter(pk=grant.pk).update(starts_on=today - timedelta(days=1))
    f.make_program(cast.org, name="Other grant", courses=[cast.course], students=[cast.student2])
    error = refusal(lambda: invite(cast, cast.student, cast.student2))
    assert (error.code, error.message) == (
        "not_in_one_program",
        "No one program covers Maya Chen and Sam Lee together in CHEM 110; book them in "
        "separate sessions.",
    )
    assert invite(cast, cast.student).program == grant


def test_the_default_program_pays_for_what_no_program_covers(cast: Cast) -> None:
    default = Program.objects.get(organization=cast.org, is_default=True)
    grant = f.make_program(cast.org, name="STEM grant", courses=[cast.course], students=[])
    session = invite(cast, cast.student)
    assert session.program == default
    grant.students.add(cast.student)
    later = timezone.now() + timedelta(days=2)
    assert invite(cast, cast.student, scheduled_start=later).program == grant
    # An archived program covers nothing new.
    Program.objects.filter(pk=grant.pk).update(archived_at=timezone.now())
    later = timezone.now() + timedelta(days=3)
    assert invite(cast, cast.student, scheduled_start=later).program == default


def test_a_money_budget_reaching_zero_refuses_the_next_booking(cast: Cast) -> None:
    # $30 at the default $15/h: two one-hour sessions, reserved at booking.
    grant = f.make_program(
        cast.org,
        name="STEM grant",
        courses=[cast.course],
        students=[cast.student],
        budget_amount=3000,
    )
    first = invite(cast, cast.student)
    second = invite(cast, cast.student, scheduled_start=timezone.now() + timedelta(days=2))
    assert (first.program, second.program) == (grant, grant)
    assert (usage_of([grant])[grant.pk].reserved, usage_of([grant])[grant.pk].left) == (3000, 0)
    error = refusal(
        lambda: invite(cast, cast.student, scheduled_start=timezone.now() + timedelta(days=3))
    )
    assert error.code == "program_budget_exhausted"
    assert error.message == (
        "STEM grant has $0.00 left of its $30.00 budget; this 60-minute session needs $15.00. "
        "Ask your program admin about its budget."
    )
    assert error.extra == {"program_id": grant.pk, "left": 0, "needed": 1500, "unit": "money"}
    assert Session.objects.count() == 2
    # Canceling releases what the session held.
    cancel_session(session_id=second.pk, actor=cast.tutor, reason="Exam moved")
    assert usage_of([grant])[grant.pk].left == 1500
    third = invite(cast, cast.student, scheduled_start=timezone.now() + timedelta(days=3))
    assert third.program == grant


def test_an_hours_budget_counts_minutes(cast: Cast) -> None:
    grant = f.make_program(
        cast.org,
        name="Writing hours",
        courses=[cast.course],
        students=[cast.student, cast.student2],
        budget_unit=BudgetUnit.HOURS,
        budget_amount=90,
    )
    invite(cast, cast.student, planned_minutes=60)
    error = refusal(
        lambda: invite(
            cast,
            cast.student2,
            planned_minutes=45,
            scheduled_start=timezone.now() + timedelta(days=2),
        )
    )
    assert error.message == (
        "Writing hours has 30 min left of its 1 h 30 min budget; this 45-minute session needs "
        "45 min. Ask your program admin about its budget."
    )
    assert invite(cast, cast.student2, planned_minutes=30).program == grant
    assert usage_of([grant])[grant.pk].left == 0


def test_completion_spends_from_the_programs_own_account(cast: Cast) -> None:
    grant = f.make_program(
        cast.org, name="STEM grant", courses=[cast.course], students=[cast.student]
    )
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], program=grant)
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=45, recap=f.GOOD_RECAP)
    account = Account.objects.get(kind=AccountKind.PROGRAM_BUDGET, program=grant)
    assert balance_cents(account) == -1125
    assert account.balance_cents == 0
    assert usage_of([grant])[grant.pk].spent == 1125
    default = Program.objects.get(organization=cast.org, is_default=True)
    assert not Entry.objects.filter(account__program=default).exists()
    entry = AuditEntry.objects.get(action="session.completed")
    assert entry.data["program_id"] == grant.pk


def test_completion_beyond_the_reservation_must_fit_the_budget(cast: Cast) -> None:
    grant = f.make_program(
        cast.org,
        name="STEM grant",
        courses=[cast.course],
        students=[cast.student, cast.student2],
        budget_amount=2000,
    )
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], program=grant, minutes=60
    )
    f.make_session(
        org=cast.org,
        tutor=cast.other_tutor,
        students=[cast.student2],
        program=grant,
        minutes=30,
        start=timezone.now() + timedelta(days=1),
    )
    # $20 budget (written past the booking check): the other session's 30 minutes ($7.50)
    # stay reserved, so this one may spend $12.50; 65 minutes ($16.25) is more than that.
    error = refusal(
        lambda: complete_session(
            session_id=session.pk, actor=cast.tutor, minutes=65, recap=f.GOOD_RECAP
        )
    )
    assert error.code == "program_budget_exhausted"
    assert error.message.startswith("STEM grant has $12.50 left of its $20.00 budget; this ")
    assert Transfer.objects.count() == 0
    assert Session.objects.get(pk=session.pk).status == Status.SCHEDULED
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=50, recap=f.GOOD_RECAP)
    assert usage_of([grant])[grant.pk].spent == 1250


def test_a_session_booked_without_a_program_finds_one_at_completion(cast: Cast) -> None:
    grant = f.make_program(
        cast.org, name="STEM grant", courses=[cast.course], students=[cast.student]
    )
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    Session.objects.filter(pk=session.pk).update(program=None)
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP)
    session.refresh_from_db()
    assert session.program == grant
    assert balance_cents(program_account(program=grant)) == -750


def test_corrections_move_money_against_the_same_program(cast: Cast) -> None:
    grant = f.make_program(
        cast.org, name="STEM grant", courses=[cast.course], students=[cast.student]
    )
    hours = f.make_program(
        cast.org,
        name="Hours",
        courses=[cast.course],
        students=[cast.student],
        budget_unit=BudgetUnit.HOURS,
        budget_amount=600,
    )
    paid = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], program=grant)
    timed = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], program=hours)
    for session in (paid, timed):
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    adjust_completion_minutes(
        session_id=paid.pk, actor=cast.agent, minutes=30, reason="Left early", idempotency_key="a"
    )
    void_completion(session_id=timed.pk, actor=cast.agent, reason="Never met", idempotency_key="v")
    assert balance_cents(program_account(program=grant)) == -750
    assert balance_cents(program_account(program=hours)) == 0
    used = usage_of([grant, hours])
    assert (used[grant.pk].spent, used[hours.pk].spent) == (750, 0)
    assert check_ledger() == []


def check_ledger() -> list[str]:
    err = io.StringIO()
    with contextlib.suppress(CommandError):
        call_command("check_ledger", stdout=io.StringIO(), stderr=err)
    return [line.removeprefix("BREACH: ") for line in err.getvalue().splitlines()]


# (program, minutes logged, minutes after a correction or None, voided)
BOOKS = [
    ("Fall grant", 60, None, False),
    ("Fall grant", 45, 30, False),
    ("Spring grant", 90, None, True),
    ("Spring grant", 25, 40, False),
    ("Hours grant", 30, None, False),
    ("default", 55, None, False),
    ("default", 15, None, True),
]


def test_check_ledger_passes_with_several_programs(cast: Cast) -> None:
    default = Program.objects.get(organization=cast.org, is_default=True)
    programs = {
        "Fall grant": f.make_program(
            cast.org, name="Fall grant", courses=[cast.course], students=[cast.student]
        ),
        "Spring grant": f.make_program(
            cast.org, name="Spring grant", courses=[cast.course], students=[cast.student]
        ),
        "Hours grant": f.make_program(
            cast.org,
            name="Hours grant",
            courses=[cast.course],
            students=[cast.student],
            budget_unit=BudgetUnit.HOURS,
            budget_amount=6000,
        ),
        "default": default,
    }
    expected: dict[int, int] = {}
    for n, (name, minutes, corrected, voided) in enumerate(BOOKS):
        program = programs[name]
        session = f.make_session(
            org=cast.org, tutor=cast.tutor, students=[cast.student], program=program
        )
        complete_session(
            session_id=session.pk, actor=cast.tutor, minutes=minutes, recap=f.GOOD_RECAP
        )
        final = minutes
        if corrected is not None:
            adjust_completion_minutes(
                session_id=session.pk,
                actor=cast.agent,
                minutes=corrected,
                reason="x",
                idempotency_key=f"a{n}",
            )
            final = corrected
        if voided:
            void_completion(
                session_id=session.pk, actor=cast.agent, reason="x", idempotency_key=f"v{n}"
            )
            final = 0
        expected[program.pk] = expected.get(program.pk, 0) + final * 1500 // 60
    assert check_ledger() == []
    for program in programs.values():
        assert -balance_cents(program_account(program=program)) == expected[program.pk]
    assert usage_of([programs["Hours grant"]])[programs["Hours grant"].pk].spent == 30
    # Each program's spend is its own: four accounts, one per program.
    assert Account.objects.filter(kind=AccountKind.PROGRAM_BUDGET).count() == 4


def test_pay_drawn_on_another_programs_budget_is_a_breach(cast: Cast) -> None:
    grant = f.make_program(cast.org, name="Fall grant", courses=[cast.course])
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    assert check_ledger() == []
    with transaction.atomic():
        transfer = post_transfer(
            kind=TransferKind.ADJUSTMENT,
            idempotency_key="wrong-budget",
            organization=cast.org,
            debit=program_account(program=grant),
            credit=tutor_account(organization=cast.org, tutor_id=cast.tutor.pk),
            amount_cents=100,
            description="Bonus",
            created_by=None,
            session_id=session.pk,
        )
    breaches = check_ledger()
    account = program_account(program=grant)
    assert (
        f"entry {Entry.objects.get(transfer=transfer, account=account).pk} on the account of "
        f"program {grant.pk} belongs to transfer {transfer.pk} (adjustment), which is not the "
        "pay of one of its sessions"
    ) in breaches
    assert (
        f"transfer {transfer.pk} pays session {session.pk} of program {session.program_id} from "
        f"account {account.pk}, not the program's own"
    ) in breaches
    assert f"program {grant.pk} spent 100 but its sessions pay their tutors 0" in breaches


def test_a_new_organization_starts_with_an_open_default_program(db: None) -> None:
    org = f.make_org()
    [program] = Program.objects.filter(organization=org)
    assert (program.name, program.is_default, program.budget_amount) == (
        "General tutoring",
        True,
        None,
    )
