"""A new time for a session: the tutor or the student proposes it, the other side accepts or
declines it, and until then the session shows who must answer (Awaiting student / Awaiting
tutor) while keeping its agreed time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
import time_machine

from studyhall.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from studyhall.core.models import AuditEntry
from studyhall.testing import factories as f
from studyhall.tutoring.models import (
    Origin,
    Participant,
    ParticipantState,
    ProposalState,
    Session,
    Status,
    TimeProposal,
)
from studyhall.tutoring.services.rescheduling import (
    accept_proposal,
    decline_proposal,
    propose_time,
)
from studyhall.tutoring.services.scheduling import (
    accept_session,
    cancel_session,
    decline_session,
    remove_participant,
)

if TYPE_CHECKING:
    from conftest import Cast

PS = ParticipantState
NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)  # Monday, 11:00 AM in New York
AGREED = NOW + timedelta(days=2)  # Wednesday
NEW = NOW + timedelta(days=3, hours=2)  # Thursday


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def events() -> Iterator[list[str]]:
    """The session events handed to the notifications, in order."""
    sent: list[str] = []

    def record(**kwargs: Any) -> None:
        sent.append(kwargs["event"])

    with (
        mock.patch("studyhall.tutoring.services.rescheduling.after_commit_session_event", record),
        mock.patch("studyhall.tutoring.services.scheduling.after_commit_session_event", record),
        mock.patch("studyhall.tutoring.services.proposals.after_commit_session_event", record),
    ):
        yield sent


def scheduled(cast: Cast, *students: Any, **kwargs: Any) -> Session:
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=list(students or (cast.student,)),
        start=AGREED,
        minutes=60,
        **kwargs,
    )


def states(session: Session) -> dict[int, str]:
    return dict(Participant.objects.filter(session=session).values_list("user_id", "state"))


def actions(session: Session) -> list[str]:
    return list(AuditEntry.objects.filter(session=session).values_list("action", flat=True))


def fresh(session: Session) -> Session:
    session.refresh_from_db()
    return session


def proposal_of(session: Session) -> TimeProposal:
    return TimeProposal.objects.filter(session=session).latest("created_at", "id")


# -- the tutor proposes ------------------------------------------------------------------------


def test_the_tutor_proposes_and_the_student_accepts(cast: Cast, events: list[str]) -> None:
    session = scheduled(cast)

    proposal = propose_time(
        session_id=session.pk,
        actor=cast.tutor,
        scheduled_start=NEW,
        planned_minutes=45,
        message=" The lab is closed on Wednesday. ",
    )

    # Awaiting student; the agreed time stands until the student accepts.
    assert (fresh(session).status, session.scheduled_start, session.planned_minutes) == (
        Status.INVITED,
        AGREED,
        60,
    )
    assert states(session) == {cast.student.pk: PS.INVITED}
    assert (proposal.state, proposal.by_tutor, proposal.message) == (
        ProposalState.OPEN,
        True,
        "The lab is closed on Wednesday.",
    )
    assert (proposal.previous_status, proposal.previous_states) == (
        Status.SCHEDULED,
        {str(cast.student.pk): PS.ACCEPTED},
    )
    entry = AuditEntry.objects.get(session=session, action="session.time_proposed")
    assert (entry.actor, entry.data) == (
        cast.tutor,
        {
            "proposal_id": proposal.pk,
            "scheduled_start": NEW.isoformat(),
            "planned_minutes": 45,
            "previous_start": AGREED.isoformat(),
            "previous_minutes": 60,
            "replaced_proposal_id": None,
            "message": "The lab is closed on Wednesday.",
        },
    )

    accept_proposal(session_id=session.pk, actor=cast.student)

    assert (fresh(session).status, session.scheduled_start, session.planned_minutes) == (
        Status.SCHEDULED,
        NEW,
        45,
    )
    assert states(session) == {cast.student.pk: PS.ACCEPTED}
    proposal.refresh_from_db()
    assert (proposal.state, proposal.answered_by, proposal.answered_at) == (
        ProposalState.ACCEPTED,
        cast.student,
        NOW,
    )
    assert actions(session) == [
        "session.time_proposed",
        "session.time_accepted",
        "session.rescheduled",
    ]
    assert events == ["rescheduled", "reschedule_accepted"]


def test_the_student_declines_the_tutors_new_time(cast: Cast, events: list[str]) -> None:
    session = scheduled(cast)
    proposal = propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)

    decline_proposal(session_id=session.pk, actor=cast.student, message="Thursday is my exam")

    assert (fresh(session).status, session.scheduled_start) == (Status.SCHEDULED, AGREED)
    assert states(session) == {cast.student.pk: PS.ACCEPTED}
    proposal.refresh_from_db()
    assert (proposal.state, proposal.answered_by, proposal.answer_message) == (
        ProposalState.DECLINED,
        cast.student,
        "Thursday is my exam",
    )
    entry = AuditEntry.objects.get(session=session, action="session.time_declined")
    assert entry.data == {"proposal_id": proposal.pk, "message": "Thursday is my exam"}
    assert events == ["rescheduled", "reschedule_declined"]


def test_in_a_group_every_student_accepts_the_new_time(cast: Cast, events: list[str]) -> None:
    session = scheduled(cast, cast.student, cast.student2)
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    assert states(session) == {cast.student.pk: PS.INVITED, cast.student2.pk: PS.INVITED}

    accept_proposal(session_id=session.pk, actor=cast.student)
    assert (fresh(session).status, session.scheduled_start) == (Status.INVITED, AGREED)

    accept_proposal(session_id=session.pk, actor=cast.student2)
    assert (fresh(session).status, session.scheduled_start) == (Status.SCHEDULED, NEW)
    assert events == ["rescheduled", "reschedule_accepted"]


def test_one_student_declining_keeps_the_agreed_time_for_the_group(cast: Cast) -> None:
    session = scheduled(cast, cast.student, cast.student2)
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    accept_proposal(session_id=session.pk, actor=cast.student)

    decline_proposal(session_id=session.pk, actor=cast.student2)

    assert (fresh(session).status, session.scheduled_start) == (Status.SCHEDULED, AGREED)
    assert states(session) == {cast.student.pk: PS.ACCEPTED, cast.student2.pk: PS.ACCEPTED}


def test_a_student_who_had_not_answered_still_has_to(cast: Cast) -> None:
    session = scheduled(cast, cast.student, cast.student2, states=[PS.ACCEPTED, PS.INVITED])
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)

    decline_proposal(session_id=session.pk, actor=cast.student)

    assert fresh(session).status == Status.INVITED
    assert states(session) == {cast.student.pk: PS.ACCEPTED, cast.student2.pk: PS.INVITED}


def test_when_the_last_student_who_had_to_answer_leaves_the_session_moves(cast: Cast) -> None:
    session = scheduled(cast, cast.student, cast.student2)
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    accept_proposal(session_id=session.pk, actor=cast.student)

    decline_session(session_id=session.pk, actor=cast.student2)

    assert (fresh(session).status, session.scheduled_start) == (Status.SCHEDULED, NEW)
    assert proposal_of(session).state == ProposalState.ACCEPTED
    assert actions(session)[-1] == "session.declined"
    assert "session.rescheduled" in actions(session)


def test_removing_the_student_who_had_not_answered_moves_the_session(cast: Cast) -> None:
    session = scheduled(cast, cast.student, cast.student2)
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    accept_proposal(session_id=session.pk, actor=cast.student)

    remove_participant(session_id=session.pk, actor=cast.tutor, user_id=cast.student2.pk)

    assert (fresh(session).status, session.scheduled_start) == (Status.SCHEDULED, NEW)


def test_when_every_student_leaves_the_proposal_closes_with_the_session(cast: Cast) -> None:
    session = scheduled(cast)
    proposal = propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)

    decline_session(session_id=session.pk, actor=cast.student)

    assert fresh(session).status == Status.DECLINED
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.CLOSED


def test_the_tutor_counters_a_request(cast: Cast) -> None:
    session = scheduled(cast, status=Status.REQUESTED, origin=Origin.REQUEST, states=[PS.ACCEPTED])
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    assert fresh(session).status == Status.INVITED
    assert states(session) == {cast.student.pk: PS.INVITED}

    accept_proposal(session_id=session.pk, actor=cast.student)

    assert (fresh(session).status, session.scheduled_start) == (Status.SCHEDULED, NEW)


def test_declining_the_tutors_counter_leaves_the_request_open(cast: Cast) -> None:
    session = scheduled(cast, status=Status.REQUESTED, origin=Origin.REQUEST, states=[PS.ACCEPTED])
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)

    decline_proposal(session_id=session.pk, actor=cast.student)

    assert (fresh(session).status, session.scheduled_start) == (Status.REQUESTED, AGREED)
    assert states(session) == {cast.student.pk: PS.ACCEPTED}
    # The tutor can still decline the request itself.
    decline_session(session_id=session.pk, actor=cast.tutor)
    assert fresh(session).status == Status.DECLINED


# -- the student proposes ----------------------------------------------------------------------


def test_the_student_proposes_and_the_tutor_accepts(cast: Cast, events: list[str]) -> None:
    session = scheduled(cast)

    proposal = propose_time(session_id=session.pk, actor=cast.student, scheduled_start=NEW)

    # Awaiting tutor.
    assert (fresh(session).status, session.scheduled_start) == (Status.REQUESTED, AGREED)
    assert proposal.by_tutor is False

    accept_proposal(session_id=session.pk, actor=cast.tutor)

    assert (fresh(session).status, session.scheduled_start) == (Status.SCHEDULED, NEW)
    assert states(session) == {cast.student.pk: PS.ACCEPTED}
    assert actions(session) == [
        "session.time_proposed",
        "session.time_accepted",
        "session.rescheduled",
    ]
    assert events == ["rescheduled", "reschedule_accepted"]


def test_the_tutor_declines_the_students_new_time(cast: Cast) -> None:
    session = scheduled(cast)
    propose_time(session_id=session.pk, actor=cast.student, scheduled_start=NEW)

    decline_proposal(session_id=session.pk, actor=cast.tutor)

    assert (fresh(session).status, session.scheduled_start) == (Status.SCHEDULED, AGREED)


def test_an_invited_student_counters_with_a_time_that_suits_them(cast: Cast) -> None:
    session = scheduled(cast, states=[PS.INVITED])
    assert session.status == Status.INVITED

    propose_time(session_id=session.pk, actor=cast.student, scheduled_start=NEW)

    # Proposing a time is accepting it; now the tutor answers.
    assert fresh(session).status == Status.REQUESTED
    assert states(session) == {cast.student.pk: PS.ACCEPTED}

    decline_proposal(session_id=session.pk, actor=cast.tutor)

    assert fresh(session).status == Status.INVITED
    assert states(session) == {cast.student.pk: PS.INVITED}


def test_in_a_group_only_the_tutor_proposes(cast: Cast) -> None:
    session = scheduled(cast, cast.student, cast.student2)
    with pytest.raises(Conflict) as raised:
        propose_time(session_id=session.pk, actor=cast.student, scheduled_start=NEW)
    assert raised.value.code == "group_reschedule_by_tutor"
    assert raised.value.message == (
        "In a group session only the tutor can propose a new time; ask Tess Tutor, or leave "
        "the session if the time does not suit you."
    )
    assert not TimeProposal.objects.exists()


# -- counter-proposals -------------------------------------------------------------------------


def test_a_counter_proposal_replaces_the_open_one(cast: Cast) -> None:
    session = scheduled(cast)
    first = propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    later = NEW + timedelta(days=1)

    second = propose_time(session_id=session.pk, actor=cast.student, scheduled_start=later)

    first.refresh_from_db()
    assert (first.state, first.answered_by) == (ProposalState.SUPERSEDED, cast.student)
    # The counter-proposal remembers the session as agreed, not as the first proposal left it.
    assert (second.previous_status, second.previous_states) == (
        Status.SCHEDULED,
        {str(cast.student.pk): PS.ACCEPTED},
    )
    assert fresh(session).status == Status.REQUESTED

    accept_proposal(session_id=session.pk, actor=cast.tutor)
    assert (fresh(session).status, session.scheduled_start) == (Status.SCHEDULED, later)


def test_the_proposer_may_propose_again(cast: Cast) -> None:
    session = scheduled(cast)
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW + timedelta(hours=1))

    assert list(TimeProposal.objects.filter(session=session).values_list("state", flat=True)) == [
        ProposalState.SUPERSEDED,
        ProposalState.OPEN,
    ]
    assert fresh(session).status == Status.INVITED


# -- what answering means while a new time waits ---------------------------------------------


def test_accepting_the_session_is_refused_while_a_new_time_awaits_you(cast: Cast) -> None:
    session = scheduled(cast)
    proposal = propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)

    with pytest.raises(Conflict) as raised:
        accept_session(session_id=session.pk, actor=cast.student)

    assert raised.value.code == "proposal_pending"
    # Maya has no time zone of her own: UTC.
    assert raised.value.message == (
        "Tess Tutor proposed a new time, on Thu, Mar 13 at 5:00 PM UTC. Accept or decline the "
        "new time."
    )
    assert raised.value.extra == {"proposal_id": proposal.pk}


def test_the_tutor_cannot_decline_an_agreed_session_with_a_new_time_pending(cast: Cast) -> None:
    session = scheduled(cast)
    propose_time(session_id=session.pk, actor=cast.student, scheduled_start=NEW)

    for call in (accept_session, decline_session):
        with pytest.raises(Conflict) as raised:
            call(session_id=session.pk, actor=cast.tutor)
        assert raised.value.code == "proposal_pending"
    assert fresh(session).status == Status.REQUESTED


def test_the_proposer_does_not_answer_their_own_proposal(cast: Cast) -> None:
    session = scheduled(cast)
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    for call in (accept_proposal, decline_proposal):
        with pytest.raises(Conflict) as raised:
            call(session_id=session.pk, actor=cast.tutor)
        assert raised.value.code == "invalid_transition"
        assert raised.value.message == (
            "You proposed this time; your students answer it. To change it, propose another time."
        )


def test_accepting_twice_is_harmless_and_there_is_nothing_to_decline_after(cast: Cast) -> None:
    session = scheduled(cast)
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    accept_proposal(session_id=session.pk, actor=cast.student)
    accept_proposal(session_id=session.pk, actor=cast.student)
    assert actions(session).count("session.time_accepted") == 1

    with pytest.raises(Conflict) as raised:
        decline_proposal(session_id=session.pk, actor=cast.student)
    assert raised.value.code == "no_proposal"


def test_canceling_closes_the_proposal(cast: Cast) -> None:
    session = scheduled(cast)
    proposal = propose_time(session_id=session.pk, actor=cast.student, scheduled_start=NEW)

    cancel_session(session_id=session.pk, actor=cast.tutor, reason="I am ill this week")

    proposal.refresh_from_db()
    assert (fresh(session).status, proposal.state) == (Status.CANCELED, ProposalState.CLOSED)


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("other_tutor", Forbidden),
        ("admin", Forbidden),
        ("agent", Forbidden),
        ("student2", Forbidden),
        ("outsider", NotFound),
    ],
)
def test_only_the_tutor_and_students_on_it_propose(
    cast: Cast, who: str, error: type[DomainError]
) -> None:
    session = scheduled(cast)
    with pytest.raises(error):
        propose_time(session_id=session.pk, actor=getattr(cast, who), scheduled_start=NEW)
    assert not TimeProposal.objects.exists()
    assert fresh(session).status == Status.SCHEDULED


@pytest.mark.parametrize(
    ("who", "error"),
    [("other_tutor", Forbidden), ("student2", Forbidden), ("outsider", NotFound)],
)
def test_only_the_other_side_answers(cast: Cast, who: str, error: type[DomainError]) -> None:
    session = scheduled(cast)
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    for call in (accept_proposal, decline_proposal):
        with pytest.raises(error):
            call(session_id=session.pk, actor=getattr(cast, who))
    assert proposal_of(session).state == ProposalState.OPEN


@pytest.mark.parametrize(
    ("start", "error", "code"),
    [
        (NOW, DomainError, "start_in_past"),
        (NOW - timedelta(hours=1), DomainError, "start_in_past"),
        (NOW + timedelta(days=366), DomainError, "start_too_far_ahead"),
        # A naive datetime on purpose: the service must refuse it.
        (datetime(2025, 3, 14, 10, 0), InvalidInput, "invalid_start"),  # noqa: DTZ001
        (AGREED, InvalidInput, "same_time"),
    ],
)
def test_a_new_time_must_be_a_real_new_time(
    cast: Cast, start: datetime, error: type[DomainError], code: str
) -> None:
    session = scheduled(cast)
    with pytest.raises(error) as raised:
        propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=start)
    assert raised.value.code == code
    assert not TimeProposal.objects.exists()
    assert actions(session) == []


def test_the_same_start_with_another_length_is_a_new_time(cast: Cast) -> None:
    session = scheduled(cast)
    propose_time(
        session_id=session.pk, actor=cast.tutor, scheduled_start=AGREED, planned_minutes=90
    )
    accept_proposal(session_id=session.pk, actor=cast.student)
    assert fresh(session).planned_minutes == 90


@pytest.mark.parametrize("minutes", [0, 7, 95, "60"])
def test_a_new_length_must_be_a_session_length(cast: Cast, minutes: object) -> None:
    session = scheduled(cast)
    with pytest.raises(DomainError) as raised:
        propose_time(
            session_id=session.pk, actor=cast.tutor, scheduled_start=NEW, planned_minutes=minutes
        )
    assert raised.value.code == "invalid_duration"


def test_a_session_that_started_cannot_move(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - timedelta(minutes=5)
    )
    with pytest.raises(Conflict) as raised:
        propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    assert raised.value.code == "invalid_transition"


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
def test_a_session_under_way_or_ended_cannot_move(cast: Cast, status: Status) -> None:
    session = scheduled(cast, status=status)
    with pytest.raises(Conflict) as raised:
        propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NEW)
    assert raised.value.code == "invalid_transition"
    assert fresh(session).status == status


def test_a_proposed_time_that_passed_cannot_be_accepted(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=NOW + timedelta(days=5),
    )
    propose_time(session_id=session.pk, actor=cast.tutor, scheduled_start=NOW + timedelta(hours=1))

    with (
        time_machine.travel(NOW + timedelta(hours=2), tick=False),
        pytest.raises(Conflict) as raised,
    ):
        accept_proposal(session_id=session.pk, actor=cast.student)

    assert raised.value.code == "proposal_expired"
    assert proposal_of(session).state == ProposalState.OPEN
