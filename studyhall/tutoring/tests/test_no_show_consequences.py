"""What no-shows lead to: counted per term (or the last 120 days), a warning at the warning
threshold exactly once, a booking suspension at the suspension threshold that refuses
requests, acceptances, invitations and bookings until an org admin lifts it; canceled sessions
never count, and a threshold of 0 turns its consequence off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.db import transaction

from studyhall.core.errors import Conflict, Forbidden, InvalidInput, RuleViolation
from studyhall.core.models import AuditEntry
from studyhall.notifications.models import Notification
from studyhall.testing import factories as f
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.models import (
    BookingSuspension,
    Mode,
    NoShowRole,
    NoShowWarning,
    Participant,
    ParticipantState,
    Session,
    Status,
)
from studyhall.tutoring.no_shows import counting_period, no_shows_of
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.consequences import count_no_show
from studyhall.tutoring.services.no_shows import lift_suspension
from studyhall.tutoring.services.scheduling import accept_session, create_session

if TYPE_CHECKING:
    from conftest import Cast

NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def no_show_session(cast: Cast, *, nth: int) -> Session:
    """An in-person session Maya came to and Sam did not, ready to log (the nth of the day)."""
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        start=NOW - timedelta(hours=2 + 2 * nth),
    )


def log_with_sam_absent(cast: Cast, session: Session) -> None:
    complete_session(
        session_id=session.pk,
        actor=cast.tutor,
        minutes=60,
        recap=f.GOOD_RECAP,
        no_show_user_ids=[cast.student2.pk],
    )


def consequences() -> list[tuple[str, int, str]]:
    return [
        (e.action, e.data["no_shows"], e.data["role"])
        for e in AuditEntry.objects.filter(action__startswith="no_show.").order_by("pk")
    ]


def request_as_sam(cast: Cast) -> Session:
    return create_session(
        actor=cast.student2,
        organization_id=cast.org.pk,
        course_id=cast.course.pk,
        mode=Mode.ONLINE,
        scheduled_start=NOW + timedelta(days=2),
        planned_minutes=60,
        tutor_id=cast.tutor.pk,
    )


def test_a_students_no_shows_warn_at_two_exactly_once_and_suspend_at_three(cast: Cast) -> None:
    sessions = [no_show_session(cast, nth=d) for d in (0, 1, 2)]

    log_with_sam_absent(cast, sessions[0])
    assert consequences() == []
    log_with_sam_absent(cast, sessions[1])
    assert consequences() == [("no_show.warned", 2, "student")]
    # Counting again at two warns nobody twice.
    with transaction.atomic():
        again = count_no_show(
            organization=cast.org,
            user_id=cast.student2.pk,
            role=NoShowRole.STUDENT,
            actor=None,
            now=NOW,
        )
    assert again is None
    assert NoShowWarning.objects.count() == 1
    log_with_sam_absent(cast, sessions[2])
    assert consequences() == [
        ("no_show.warned", 2, "student"),
        ("no_show.suspended", 3, "student"),
    ]
    suspension = BookingSuspension.objects.get()
    assert (suspension.user_id, suspension.role, suspension.period_name) == (
        cast.student2.pk,
        "student",
        "the last 120 days",
    )

    run_queued_tasks()
    # The two notices are separate tasks, run in either order.
    titles = sorted(
        Notification.objects.filter(user=cast.student2, kind="no_show").values_list(
            "event", "title"
        ),
        key=lambda row: ["no_show_warned", "no_show_suspended"].index(row[0]),
    )
    assert titles == [
        (
            "no_show_warned",
            "You have 2 no-shows as a student at Test College this term. Please cancel ahead "
            "when you cannot come. At 3, booking is suspended until an org admin lifts it.",
        ),
        (
            "no_show_suspended",
            "Your booking as a student at Test College is suspended after 3 no-shows in the "
            "last 120 days. An org admin can lift it.",
        ),
    ]


def suspend_sam(cast: Cast) -> BookingSuspension:
    return BookingSuspension.objects.create(
        organization=cast.org,
        user=cast.student2,
        role=NoShowRole.STUDENT,
        period_start=date(2024, 11, 11),
        period_end=date(2025, 3, 10),
        period_name="the last 120 days",
        no_shows=3,
    )


def test_a_suspended_student_cannot_request_and_nothing_is_written(cast: Cast) -> None:
    suspend_sam(cast)
    before = (Session.objects.count(), AuditEntry.objects.count())

    with pytest.raises(RuleViolation) as raised:
        request_as_sam(cast)

    assert raised.value.code == "booking_suspended"
    assert raised.value.message == (
        "Your booking as a student is suspended after 3 no-shows in the last 120 days. An org "
        "admin can lift the suspension."
    )
    assert (Session.objects.count(), AuditEntry.objects.count()) == before


def test_a_suspended_student_cannot_accept_an_invitation(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student2],
        start=NOW + timedelta(days=1),
        states=[ParticipantState.INVITED],
    )
    suspend_sam(cast)

    with pytest.raises(RuleViolation) as raised:
        accept_session(session_id=session.pk, actor=cast.student2)

    assert raised.value.code == "booking_suspended"
    assert Participant.objects.get(session=session).state == ParticipantState.INVITED


def test_a_tutor_cannot_invite_a_suspended_student(cast: Cast) -> None:
    suspend_sam(cast)
    with pytest.raises(RuleViolation) as raised:
        create_session(
            actor=cast.tutor,
            organization_id=cast.org.pk,
            course_id=cast.course.pk,
            mode=Mode.ONLINE,
            scheduled_start=NOW + timedelta(days=2),
            planned_minutes=60,
            student_ids=[cast.student2.pk],
        )
    assert raised.value.code == "booking_suspended"
    assert raised.value.message == (
        "Sam Lee cannot book sessions: their booking is suspended after 3 no-shows in the last "
        "120 days."
    )


def test_a_suspended_tutor_cannot_be_booked_or_invite(cast: Cast) -> None:
    BookingSuspension.objects.create(
        organization=cast.org,
        user=cast.tutor,
        role=NoShowRole.TUTOR,
        period_start=date(2025, 1, 6),
        period_end=date(2025, 5, 9),
        period_name="Spring 2025",
        no_shows=3,
    )
    with pytest.raises(RuleViolation) as as_student:
        create_session(
            actor=cast.student,
            organization_id=cast.org.pk,
            course_id=cast.course.pk,
            mode=Mode.ONLINE,
            scheduled_start=NOW + timedelta(days=2),
            planned_minutes=60,
            tutor_id=cast.tutor.pk,
        )
    with pytest.raises(RuleViolation) as as_tutor:
        create_session(
            actor=cast.tutor,
            organization_id=cast.org.pk,
            course_id=cast.course.pk,
            mode=Mode.ONLINE,
            scheduled_start=NOW + timedelta(days=2),
            planned_minutes=60,
            student_ids=[cast.student.pk],
        )
    assert (as_student.value.code, as_tutor.value.code) == (
        "booking_suspended",
        "booking_suspended",
    )
    assert as_student.value.message == (
        "Tess Tutor cannot be booked as a tutor: their booking is suspended after 3 no-shows in "
        "Spring 2025."
    )
    assert as_tutor.value.message == (
        "Your booking as a tutor is suspended after 3 no-shows in Spring 2025. An org admin can "
        "lift the suspension."
    )
    assert Session.objects.count() == 0


def test_lifting_restores_booking_audited_with_the_reason(cast: Cast) -> None:
    suspension = suspend_sam(cast)

    lift_suspension(
        organization_id=cast.org.pk,
        user_id=cast.student2.pk,
        role=NoShowRole.STUDENT,
        actor=cast.admin,
        reason="Talked it through; family emergency.",
    )

    suspension.refresh_from_db()
    assert (suspension.lifted_at, suspension.lifted_by_id, suspension.lift_reason) == (
        NOW,
        cast.admin.pk,
        "Talked it through; family emergency.",
    )
    entry = AuditEntry.objects.get(action="no_show.suspension_lifted")
    assert (entry.actor_id, entry.data["reason"], entry.data["user_id"]) == (
        cast.admin.pk,
        "Talked it through; family emergency.",
        cast.student2.pk,
    )
    assert request_as_sam(cast).status == Status.REQUESTED
    run_queued_tasks()
    assert Notification.objects.get(user=cast.student2, event="no_show_lifted").title == (
        "An org admin of Test College lifted the suspension of your booking as a student."
    )


@pytest.mark.parametrize(
    ("actor", "role", "reason", "error", "code"),
    [
        ("admin", "student", "  ", InvalidInput, "reason_required"),
        ("admin", "pilot", "Because.", InvalidInput, "invalid_role"),
        ("admin", "tutor", "Because.", Conflict, "not_suspended"),
        ("tutor", "student", "Because.", Forbidden, None),
    ],
)
def test_lifting_refusals_write_nothing(
    cast: Cast, actor: str, role: str, reason: str, error: type[Exception], code: str | None
) -> None:
    suspension = suspend_sam(cast)
    with pytest.raises(error) as raised:
        lift_suspension(
            organization_id=cast.org.pk,
            user_id=cast.student2.pk,
            role=role,
            actor=getattr(cast, actor),
            reason=reason,
        )
    if code is not None:
        assert raised.value.code == code  # type: ignore[attr-defined]
    suspension.refresh_from_db()
    assert suspension.lifted_at is None
    assert not AuditEntry.objects.filter(action="no_show.suspension_lifted").exists()


def test_a_suspension_lifted_at_three_comes_back_at_four(cast: Cast) -> None:
    for d in range(3):
        log_with_sam_absent(cast, no_show_session(cast, nth=d))
    lift_suspension(
        organization_id=cast.org.pk,
        user_id=cast.student2.pk,
        role=NoShowRole.STUDENT,
        actor=cast.admin,
        reason="One more chance.",
    )

    log_with_sam_absent(cast, no_show_session(cast, nth=3))

    assert [
        (s.no_shows, s.lifted_at is None) for s in BookingSuspension.objects.order_by("pk")
    ] == [
        (3, False),
        (4, True),
    ]


def test_a_canceled_session_never_counts(cast: Cast) -> None:
    canceled = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student2],
        start=NOW - timedelta(days=1),
        status=Status.CANCELED,
    )
    Participant.objects.filter(session=canceled).update(no_show=True)
    period = counting_period(cast.org, today=NOW.date())

    assert no_shows_of(cast.org, cast.student2.pk, role=NoShowRole.STUDENT, period=period) == 0


def test_the_term_that_covers_today_is_counted_else_the_last_120_days(cast: Cast) -> None:
    old = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student2], start=NOW - timedelta(days=119)
    )
    older = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student2], start=NOW - timedelta(days=121)
    )
    Participant.objects.filter(session__in=[old, older]).update(no_show=True)

    fallback = counting_period(cast.org, today=NOW.date())
    assert (fallback.start, fallback.end, fallback.is_term) == (
        date(2024, 11, 11),
        date(2025, 3, 10),
        False,
    )
    assert no_shows_of(cast.org, cast.student2.pk, role=NoShowRole.STUDENT, period=fallback) == 1

    cast.org.terms.create(name="Spring 2025", start=date(2025, 1, 6), end=date(2025, 5, 9))
    term = counting_period(cast.org, today=NOW.date())
    assert (term.name, term.is_term) == ("Spring 2025", True)
    assert no_shows_of(cast.org, cast.student2.pk, role=NoShowRole.STUDENT, period=term) == 0


def test_thresholds_of_zero_turn_the_consequences_off(cast: Cast) -> None:
    cast.org.no_show_warning_threshold = 0
    cast.org.no_show_suspension_threshold = 0
    cast.org.save(update_fields=["no_show_warning_threshold", "no_show_suspension_threshold"])

    for d in range(4):
        log_with_sam_absent(cast, no_show_session(cast, nth=d))

    assert consequences() == []
    assert not BookingSuspension.objects.exists()
    assert request_as_sam(cast).status == Status.REQUESTED
