"""Creating sessions and answering them: invite, request, accept, decline, cancel, remove."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.utils import timezone

from studyhall.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import Role
from studyhall.testing import factories as f
from studyhall.tutoring.models import Mode, Origin, Participant, ParticipantState, Session, Status
from studyhall.tutoring.services.scheduling import (
    accept_session,
    cancel_session,
    create_session,
    decline_session,
    remove_participant,
)

if TYPE_CHECKING:
    from conftest import Cast

NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
PS = ParticipantState


def states(session: Session) -> dict[int, str]:
    return dict(Participant.objects.filter(session=session).values_list("user_id", "state"))


def actions(session: Session) -> list[str]:
    return list(AuditEntry.objects.filter(session=session).values_list("action", flat=True))


def status_of(session: Session) -> str:
    session.refresh_from_db()
    return session.status


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


def request(cast: Cast, **overrides: Any) -> Session:
    kwargs: dict[str, Any] = {
        "actor": cast.student,
        "organization_id": cast.org.pk,
        "course_id": cast.course.pk,
        "mode": Mode.ONLINE,
        "scheduled_start": timezone.now() + timedelta(days=1),
        "planned_minutes": 45,
        "tutor_id": cast.tutor.pk,
    }
    kwargs.update(overrides)
    return create_session(**kwargs)


def assert_refused_and_nothing_written(
    error: type[DomainError], code: str, call: Any, *args: Any, **kwargs: Any
) -> DomainError:
    sessions, audits = Session.objects.count(), AuditEntry.objects.count()
    with pytest.raises(error) as raised:
        call(*args, **kwargs)
    assert raised.value.code == code
    assert Session.objects.count() == sessions
    assert AuditEntry.objects.count() == audits
    return raised.value


# -- create -------------------------------------------------------------------------------


def test_a_tutor_invites_students(cast: Cast) -> None:
    start = timezone.now() + timedelta(days=2)
    session = invite(
        cast, cast.student, cast.student2, scheduled_start=start, notes=" Bring notes "
    )
    session.refresh_from_db()
    assert session.status == Status.INVITED
    assert session.origin == Origin.INVITATION
    assert session.tutor == cast.tutor
    assert session.created_by == cast.tutor
    assert session.organization == cast.org
    assert session.course == cast.course
    assert session.mode == Mode.IN_PERSON
    assert session.location == "Science library, room 2"
    assert session.scheduled_start == start
    assert session.planned_minutes == 60
    assert session.notes == "Bring notes"
    assert states(session) == {cast.student.pk: PS.INVITED, cast.student2.pk: PS.INVITED}
    assert not Participant.objects.filter(session=session, responded_at__isnull=False).exists()
    entry = AuditEntry.objects.get(session=session)
    assert entry.action == "session.created"
    assert entry.actor == cast.tutor
    assert entry.organization == cast.org
    assert entry.data == {
        "origin": "invitation",
        "student_ids": [cast.student.pk, cast.student2.pk],
        "scheduled_start": start.isoformat(),
        "planned_minutes": 60,
        "mode": "in_person",
        "recorded_after_the_fact": False,
        # The organization's default program pays; 60 minutes at $15/h are held against it.
        "program_id": session.program_id,
        "reserved": 1500,
    }
    assert session.program is not None and session.program.is_default


def test_a_student_requests_a_tutor(cast: Cast) -> None:
    session = request(cast, location="ignored online")
    session.refresh_from_db()
    assert session.status == Status.REQUESTED
    assert session.origin == Origin.REQUEST
    assert session.tutor == cast.tutor
    assert session.created_by == cast.student
    assert session.location == ""
    assert states(session) == {cast.student.pk: PS.ACCEPTED}
    assert Participant.objects.get(session=session).responded_at is not None
    assert actions(session) == ["session.created"]
    assert AuditEntry.objects.get(session=session).data["origin"] == "request"


def test_duplicate_student_ids_invite_once(cast: Cast) -> None:
    session = invite(cast, student_ids=[cast.student.pk, cast.student.pk, cast.student2.pk])
    assert states(session) == {cast.student.pk: PS.INVITED, cast.student2.pk: PS.INVITED}


@pytest.mark.parametrize("minutes", [0, 4, 7, 95, "60", None])
def test_create_refuses_an_invalid_planned_length(cast: Cast, minutes: object) -> None:
    error = assert_refused_and_nothing_written(
        DomainError, "invalid_duration", invite, cast, planned_minutes=minutes
    )
    assert error.message.startswith("The planned length must be one of 5, 10, 15 … 90 minutes")


@pytest.mark.parametrize("minutes", [5, 90])
def test_create_accepts_the_shortest_and_longest_lengths(cast: Cast, minutes: int) -> None:
    assert invite(cast, planned_minutes=minutes).planned_minutes == minutes


@pytest.mark.parametrize("location", ["", "   ", "\n"])
def test_an_in_person_session_needs_a_location(cast: Cast, location: str) -> None:
    assert_refused_and_nothing_written(
        InvalidInput, "location_required", invite, cast, location=location
    )


def test_an_unknown_mode_is_refused(cast: Cast) -> None:
    assert_refused_and_nothing_written(InvalidInput, "invalid_mode", invite, cast, mode="phone")


def test_the_start_may_lie_up_to_72_hours_in_the_past(cast: Cast) -> None:
    with time_machine.travel(NOW, tick=False):
        assert_refused_and_nothing_written(
            DomainError,
            "start_too_far_in_past",
            invite,
            cast,
            scheduled_start=NOW - timedelta(hours=73),
        )
        assert_refused_and_nothing_written(
            DomainError,
            "start_too_far_in_past",
            invite,
            cast,
            scheduled_start=NOW - timedelta(hours=72, seconds=1),
        )
        # Two students: one tutor and one student meet at most once a day.
        almost = invite(
            cast, cast.student, scheduled_start=NOW - timedelta(hours=72) + timedelta(minutes=1)
        )
        assert almost.status == Status.INVITED
        exactly = invite(cast, cast.student2, scheduled_start=NOW - timedelta(hours=72))
        assert exactly.status == Status.INVITED


def test_the_past_limit_follows_the_organization_s_grace_period(cast: Cast) -> None:
    cast.org.grace_hours = 24
    cast.org.save()
    with time_machine.travel(NOW, tick=False):
        error = assert_refused_and_nothing_written(
            DomainError,
            "start_too_far_in_past",
            invite,
            cast,
            scheduled_start=NOW - timedelta(hours=24, minutes=1),
        )
        assert error.message.startswith("A session can be recorded at most 24 hours after")
        invite(cast, scheduled_start=NOW - timedelta(hours=24))


def test_a_start_more_than_a_year_ahead_is_refused(cast: Cast) -> None:
    with time_machine.travel(NOW, tick=False):
        assert_refused_and_nothing_written(
            DomainError,
            "start_too_far_ahead",
            invite,
            cast,
            scheduled_start=NOW + timedelta(days=366),
        )
        invite(cast, scheduled_start=NOW + timedelta(days=365))


# The naive datetime is the point: a start without a time zone must be refused.
NAIVE_START = datetime(2030, 1, 1, 12, 0)  # noqa: DTZ001


@pytest.mark.parametrize("start", [NAIVE_START, "2030-01-01T12:00:00Z", None])
def test_a_start_without_a_time_zone_is_refused(cast: Cast, start: object) -> None:
    assert_refused_and_nothing_written(
        InvalidInput, "invalid_start", invite, cast, scheduled_start=start
    )


def test_an_unknown_course_is_refused(cast: Cast) -> None:
    assert_refused_and_nothing_written(
        InvalidInput, "unknown_course", invite, cast, course_id=cast.course.pk + 1000
    )


def test_a_course_of_another_organization_is_refused(cast: Cast) -> None:
    foreign = f.make_course(cast.other_org, code="BIO 101")
    assert_refused_and_nothing_written(
        InvalidInput, "unknown_course", invite, cast, course_id=foreign.pk
    )


@pytest.mark.parametrize("who", ["other_tutor", "admin", "outsider", "agent"])
def test_only_students_of_the_organization_can_be_invited(cast: Cast, who: str) -> None:
    error = assert_refused_and_nothing_written(
        InvalidInput,
        "unknown_student",
        invite,
        cast,
        student_ids=[cast.student.pk, getattr(cast, who).pk],
    )
    assert error.extra == {"user_ids": [getattr(cast, who).pk]}


def test_an_unknown_user_id_is_refused(cast: Cast) -> None:
    assert_refused_and_nothing_written(
        InvalidInput, "unknown_student", invite, cast, student_ids=[10**9]
    )


def test_an_invitation_needs_a_student(cast: Cast) -> None:
    assert_refused_and_nothing_written(
        InvalidInput, "no_participants", invite, cast, student_ids=[]
    )


def test_a_tutor_cannot_invite_themselves(cast: Cast) -> None:
    f.add_member(cast.org, cast.tutor, Role.STUDENT)
    assert_refused_and_nothing_written(
        InvalidInput, "invalid_input", invite, cast, student_ids=[cast.tutor.pk]
    )


def test_a_group_has_at_most_six_students(cast: Cast) -> None:
    students = [f.add_member(cast.org, f.make_user(), Role.STUDENT) for _ in range(7)]
    f.enroll(cast.course, *students)
    error = assert_refused_and_nothing_written(
        DomainError, "group_too_large", invite, cast, *students
    )
    assert error.message == "A group session has at most 6 students."
    session = invite(cast, *students[:6])
    assert len(states(session)) == 6


@pytest.mark.parametrize("who", ["student", "admin"])
def test_inviting_needs_the_tutor_role(cast: Cast, who: str) -> None:
    assert_refused_and_nothing_written(
        Forbidden, "forbidden", invite, cast, cast.student2, actor=getattr(cast, who)
    )


def test_requesting_needs_the_student_role(cast: Cast) -> None:
    assert_refused_and_nothing_written(
        Forbidden, "forbidden", request, cast, actor=cast.other_tutor
    )


@pytest.mark.parametrize("who", ["outsider", "agent"])
def test_a_non_member_cannot_create_in_the_organization(cast: Cast, who: str) -> None:
    assert_refused_and_nothing_written(
        NotFound, "not_found", invite, cast, actor=getattr(cast, who)
    )
    assert_refused_and_nothing_written(
        NotFound, "not_found", request, cast, actor=getattr(cast, who)
    )


def test_an_unknown_organization_is_not_found(cast: Cast) -> None:
    assert_refused_and_nothing_written(
        NotFound, "not_found", invite, cast, organization_id=cast.org.pk + 1000
    )


@pytest.mark.parametrize("who", ["student2", "admin", "outsider"])
def test_a_request_is_for_a_tutor_of_the_organization(cast: Cast, who: str) -> None:
    assert_refused_and_nothing_written(
        InvalidInput, "unknown_tutor", request, cast, tutor_id=getattr(cast, who).pk
    )


def test_a_request_is_for_oneself(cast: Cast) -> None:
    assert_refused_and_nothing_written(
        InvalidInput, "invalid_input", request, cast, student_ids=[cast.student2.pk]
    )


def test_a_peer_tutor_cannot_request_themselves(cast: Cast) -> None:
    f.add_member(cast.org, cast.tutor, Role.STUDENT)
    assert_refused_and_nothing_written(
        InvalidInput, "invalid_input", request, cast, actor=cast.tutor, tutor_id=cast.tutor.pk
    )


def test_control_characters_in_notes_are_refused(cast: Cast) -> None:
    assert_refused_and_nothing_written(InvalidInput, "invalid_input", invite, cast, notes="hi\x00")


# -- accept -------------------------------------------------------------------------------


def test_students_accept_an_invitation(cast: Cast) -> None:
    session = invite(cast, cast.student, cast.student2)
    accept_session(session_id=session.pk, actor=cast.student)
    assert states(session) == {cast.student.pk: PS.ACCEPTED, cast.student2.pk: PS.INVITED}
    assert status_of(session) == Status.INVITED
    accept_session(session_id=session.pk, actor=cast.student2)
    assert states(session) == {cast.student.pk: PS.ACCEPTED, cast.student2.pk: PS.ACCEPTED}
    assert status_of(session) == Status.SCHEDULED
    assert actions(session) == ["session.created", "session.accepted", "session.accepted"]
    assert list(
        AuditEntry.objects.filter(action="session.accepted").values_list("actor", flat=True)
    ) == [cast.student.pk, cast.student2.pk]


def test_accepting_twice_is_harmless(cast: Cast) -> None:
    session = invite(cast)
    accept_session(session_id=session.pk, actor=cast.student)
    accept_session(session_id=session.pk, actor=cast.student)
    assert states(session) == {cast.student.pk: PS.ACCEPTED}
    assert status_of(session) == Status.SCHEDULED
    assert actions(session) == ["session.created", "session.accepted"]


def test_the_tutor_accepts_a_request(cast: Cast) -> None:
    session = request(cast)
    accept_session(session_id=session.pk, actor=cast.tutor)
    assert status_of(session) == Status.SCHEDULED
    accept_session(session_id=session.pk, actor=cast.tutor)
    assert status_of(session) == Status.SCHEDULED
    assert actions(session) == ["session.created", "session.accepted"]


def test_a_declined_student_cannot_accept_later(cast: Cast) -> None:
    session = invite(cast, cast.student, cast.student2)
    decline_session(session_id=session.pk, actor=cast.student)
    with pytest.raises(Conflict) as raised:
        accept_session(session_id=session.pk, actor=cast.student)
    assert raised.value.code == "invalid_transition"
    assert states(session)[cast.student.pk] == PS.DECLINED


@pytest.mark.parametrize(
    ("who", "error"), [("admin", Forbidden), ("other_tutor", Forbidden), ("outsider", NotFound)]
)
def test_only_participants_accept(cast: Cast, who: str, error: type[DomainError]) -> None:
    session = invite(cast)
    with pytest.raises(error):
        accept_session(session_id=session.pk, actor=getattr(cast, who))
    assert status_of(session) == Status.INVITED
    assert actions(session) == ["session.created"]


def test_an_ended_session_cannot_be_accepted(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], states=[PS.INVITED],
        status=Status.CANCELED,
    )  # fmt: skip
    with pytest.raises(Conflict) as raised:
        accept_session(session_id=session.pk, actor=cast.student)
    assert raised.value.code == "invalid_transition"
    assert states(session) == {cast.student.pk: PS.INVITED}


# -- decline ------------------------------------------------------------------------------


def test_when_every_student_declines_the_session_is_declined(cast: Cast) -> None:
    session = invite(cast, cast.student, cast.student2)
    decline_session(session_id=session.pk, actor=cast.student, message="Exam that day")
    assert status_of(session) == Status.INVITED
    decline_session(session_id=session.pk, actor=cast.student2)
    assert states(session) == {cast.student.pk: PS.DECLINED, cast.student2.pk: PS.DECLINED}
    session.refresh_from_db()
    assert session.status == Status.DECLINED
    assert session.ended_at is not None
    assert actions(session) == ["session.created", "session.declined", "session.declined"]
    first_decline = AuditEntry.objects.filter(action="session.declined").first()
    assert first_decline is not None
    assert first_decline.data == {"message": "Exam that day"}


def test_one_decline_and_one_accept_schedule_the_session(cast: Cast) -> None:
    session = invite(cast, cast.student, cast.student2)
    decline_session(session_id=session.pk, actor=cast.student)
    accept_session(session_id=session.pk, actor=cast.student2)
    assert status_of(session) == Status.SCHEDULED


def test_declining_twice_is_harmless(cast: Cast) -> None:
    session = invite(cast, cast.student, cast.student2)
    decline_session(session_id=session.pk, actor=cast.student)
    decline_session(session_id=session.pk, actor=cast.student)
    assert actions(session) == ["session.created", "session.declined"]


def test_the_tutor_declines_a_request(cast: Cast) -> None:
    session = request(cast)
    decline_session(session_id=session.pk, actor=cast.tutor, message="Fully booked")
    session.refresh_from_db()
    assert session.status == Status.DECLINED
    assert session.ended_at is not None
    assert actions(session) == ["session.created", "session.declined"]


def test_the_tutor_cannot_decline_their_own_invitation(cast: Cast) -> None:
    session = invite(cast)
    with pytest.raises(Conflict) as raised:
        decline_session(session_id=session.pk, actor=cast.tutor)
    assert raised.value.code == "invalid_transition"
    assert status_of(session) == Status.INVITED


def test_a_student_who_declines_their_own_request_ends_it(cast: Cast) -> None:
    session = request(cast)
    decline_session(session_id=session.pk, actor=cast.student)
    assert states(session) == {cast.student.pk: PS.DECLINED}
    assert status_of(session) in {Status.DECLINED, Status.CANCELED}
    # And the tutor can no longer turn it into a session with nobody on it.
    with pytest.raises(Conflict):
        accept_session(session_id=session.pk, actor=cast.tutor)


def test_an_invited_student_may_decline_a_session_recorded_after_the_fact(cast: Cast) -> None:
    session = invite(cast, scheduled_start=timezone.now() - timedelta(hours=2))
    decline_session(session_id=session.pk, actor=cast.student, message="I was not there")
    assert states(session) == {cast.student.pk: PS.DECLINED}
    assert status_of(session) == Status.DECLINED


def test_an_accepted_student_cannot_withdraw_after_the_start(cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    with pytest.raises(Conflict) as raised:
        decline_session(session_id=session.pk, actor=cast.student)
    assert raised.value.code == "invalid_transition"
    assert states(session) == {cast.student.pk: PS.ACCEPTED}
    assert status_of(session) == Status.SCHEDULED


def test_a_student_cannot_cancel_after_the_start(cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    with pytest.raises(Conflict) as raised:
        cancel_session(session_id=session.pk, actor=cast.student, reason="Changed my mind")
    assert raised.value.code == "invalid_transition"
    assert status_of(session) == Status.SCHEDULED


# -- cancel -------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_canceling_needs_a_reason(cast: Cast, reason: str) -> None:
    session = invite(cast)
    with pytest.raises(InvalidInput) as raised:
        cancel_session(session_id=session.pk, actor=cast.tutor, reason=reason)
    assert raised.value.code == "reason_required"
    session.refresh_from_db()
    assert (session.status, session.canceled_by, session.cancel_reason) == (
        Status.INVITED,
        None,
        "",
    )
    assert actions(session) == ["session.created"]


def test_the_tutor_cancels(cast: Cast) -> None:
    session = invite(cast, cast.student, cast.student2)
    cancel_session(session_id=session.pk, actor=cast.tutor, reason="  I am sick  ")
    session.refresh_from_db()
    assert session.status == Status.CANCELED
    assert session.canceled_by == cast.tutor
    assert session.cancel_reason == "I am sick"
    assert session.ended_at is not None
    entry = AuditEntry.objects.get(session=session, action="session.canceled")
    assert (entry.actor, entry.data) == (cast.tutor, {"reason": "I am sick"})


def test_the_tutor_cancels_a_request(cast: Cast) -> None:
    session = request(cast)
    cancel_session(session_id=session.pk, actor=cast.tutor, reason="Out of town")
    assert status_of(session) == Status.CANCELED


def test_a_student_in_a_group_withdraws_only_themselves(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
        start=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    cancel_session(session_id=session.pk, actor=cast.student, reason="Schedule clash")
    assert states(session) == {cast.student.pk: PS.DECLINED, cast.student2.pk: PS.ACCEPTED}
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED
    assert (session.canceled_by, session.cancel_reason) == (None, "")
    entry = AuditEntry.objects.get(session=session)
    assert (entry.action, entry.actor, entry.data) == (
        "session.withdrew",
        cast.student,
        {"reason": "Schedule clash"},
    )


def test_the_sole_student_cancels_the_session(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
        states=[PS.ACCEPTED, PS.DECLINED], start=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    cancel_session(session_id=session.pk, actor=cast.student, reason="Feeling better")
    session.refresh_from_db()
    assert session.status == Status.CANCELED
    assert session.canceled_by == cast.student
    assert session.cancel_reason == "Feeling better"
    assert actions(session) == ["session.canceled"]


def test_a_student_cancels_their_request(cast: Cast) -> None:
    session = request(cast)
    cancel_session(session_id=session.pk, actor=cast.student, reason="Found a study group")
    assert status_of(session) == Status.CANCELED


def test_support_can_cancel(cast: Cast) -> None:
    session = invite(cast)
    cancel_session(session_id=session.pk, actor=cast.agent, reason="Duplicate booking")
    session.refresh_from_db()
    assert (session.status, session.canceled_by) == (Status.CANCELED, cast.agent)


def test_an_org_admin_cancels_the_whole_session(cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
                             start=timezone.now() + timedelta(days=1))  # fmt: skip
    cancel_session(session_id=session.pk, actor=cast.admin, reason="The center is closed")
    session.refresh_from_db()
    assert (session.status, session.canceled_by, session.cancel_reason) == (
        Status.CANCELED,
        cast.admin,
        "The center is closed",
    )
    assert states(session) == {cast.student.pk: PS.ACCEPTED, cast.student2.pk: PS.ACCEPTED}
    entry = AuditEntry.objects.get(session=session)
    assert (entry.action, entry.actor, entry.data) == (
        "session.canceled",
        cast.admin,
        {"reason": "The center is closed"},
    )


@pytest.mark.parametrize(("who", "error"), [("other_tutor", Forbidden), ("outsider", NotFound)])
def test_others_cannot_cancel(cast: Cast, who: str, error: type[DomainError]) -> None:
    session = invite(cast)
    with pytest.raises(error):
        cancel_session(session_id=session.pk, actor=getattr(cast, who), reason="Because")
    assert status_of(session) == Status.INVITED
    assert actions(session) == ["session.created"]


@pytest.mark.parametrize(
    "status",
    [
        Status.STARTING,
        Status.IN_PROGRESS,
        Status.COMPLETED,
        Status.CANCELED,
        Status.DECLINED,
        Status.MISSED,
    ],
)
def test_a_session_under_way_or_ended_cannot_be_canceled(cast: Cast, status: Status) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], status=status)
    with pytest.raises(Conflict) as raised:
        cancel_session(session_id=session.pk, actor=cast.tutor, reason="Too late")
    assert raised.value.code == "invalid_transition"
    session.refresh_from_db()
    assert (session.status, session.cancel_reason, session.canceled_by) == (status, "", None)
    assert actions(session) == []


# -- remove a participant -----------------------------------------------------------------


def test_removing_the_invited_student_schedules_the_session(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
        states=[PS.ACCEPTED, PS.INVITED],
    )  # fmt: skip
    assert session.status == Status.INVITED
    remove_participant(session_id=session.pk, actor=cast.tutor, user_id=cast.student2.pk)
    assert states(session) == {cast.student.pk: PS.ACCEPTED, cast.student2.pk: PS.REMOVED}
    assert status_of(session) == Status.SCHEDULED
    entry = AuditEntry.objects.get(session=session)
    assert (entry.action, entry.actor, entry.data) == (
        "session.participant_removed",
        cast.tutor,
        {"user_id": cast.student2.pk, "previous_state": "invited"},
    )


def test_removing_an_accepted_student_keeps_the_session(cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2])
    remove_participant(session_id=session.pk, actor=cast.tutor, user_id=cast.student2.pk)
    assert states(session) == {cast.student.pk: PS.ACCEPTED, cast.student2.pk: PS.REMOVED}
    assert status_of(session) == Status.SCHEDULED
    remove_participant(session_id=session.pk, actor=cast.tutor, user_id=cast.student2.pk)
    assert actions(session) == ["session.participant_removed"]


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("student", Forbidden),
        ("student2", Forbidden),
        ("admin", Forbidden),
        ("other_tutor", Forbidden),
        ("outsider", NotFound),
    ],
)
def test_only_the_tutor_removes(cast: Cast, who: str, error: type[DomainError]) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
        states=[PS.ACCEPTED, PS.INVITED],
    )  # fmt: skip
    with pytest.raises(error):
        remove_participant(
            session_id=session.pk, actor=getattr(cast, who), user_id=cast.student2.pk
        )
    assert states(session) == {cast.student.pk: PS.ACCEPTED, cast.student2.pk: PS.INVITED}
    assert status_of(session) == Status.INVITED
    assert actions(session) == []


@pytest.mark.parametrize("user_id", ["other_tutor", "outsider", 10**9, "abc"])
def test_removing_someone_not_on_the_session_is_not_found(cast: Cast, user_id: Any) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    target = getattr(cast, user_id).pk if user_id in ("other_tutor", "outsider") else user_id
    with pytest.raises(NotFound):
        remove_participant(session_id=session.pk, actor=cast.tutor, user_id=target)
    assert actions(session) == []


def test_a_declined_student_cannot_be_removed(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
        states=[PS.ACCEPTED, PS.DECLINED],
    )  # fmt: skip
    with pytest.raises(Conflict) as raised:
        remove_participant(session_id=session.pk, actor=cast.tutor, user_id=cast.student2.pk)
    assert raised.value.code == "invalid_transition"
    assert states(session)[cast.student2.pk] == PS.DECLINED


def test_nobody_is_removed_from_an_ended_session(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], status=Status.COMPLETED
    )
    with pytest.raises(Conflict) as raised:
        remove_participant(session_id=session.pk, actor=cast.tutor, user_id=cast.student.pk)
    assert raised.value.code == "invalid_transition"
    assert states(session) == {cast.student.pk: PS.ACCEPTED}
