"""Completing a session: every rule of PRODUCT.md "Completing a session", both sides of each
boundary, and that every refusal writes nothing at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.core import mail
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from studyhall.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RuleViolation,
)
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import (
    DERIVED_BALANCE_KINDS,
    Account,
    AccountKind,
    Entry,
    Transfer,
    TransferKind,
)
from studyhall.ledger.selectors import balance_cents
from studyhall.testing import factories as f
from studyhall.testing.factories import GOOD_RECAP
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.call_presence import NoCallPresence
from studyhall.tutoring.models import (
    Completion,
    Mode,
    Participant,
    ParticipantState,
    Session,
    Status,
)
from studyhall.tutoring.services.completion import CompletionResult, complete_session
from studyhall.tutoring.services.scheduling import decline_session, remove_participant

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = pytest.mark.postgres

T0 = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)  # Mon, Mar 10, 11:00 AM in New York (EDT)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
PS = ParticipantState
PRESENCE = "studyhall.tutoring.tests.test_completion_service"


@pytest.fixture
def session(cast: Cast) -> Session:
    """Started an hour ago, 60 minutes, the student accepted: ready to complete."""
    return f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])


class StudentInCall(NoCallPresence):
    """Presence hook: every accepted student of the session is still in the call."""

    def user_ids_in_call(self, session_id: int) -> set[int]:
        return set(
            Participant.objects.filter(session_id=session_id, state=PS.ACCEPTED).values_list(
                "user_id", flat=True
            )
        )


class TutorInCall(NoCallPresence):
    """Presence hook: only the tutor is left in the call."""

    def user_ids_in_call(self, session_id: int) -> set[int]:
        return {Session.objects.get(pk=session_id).tutor_id}


class StrangerInCall(NoCallPresence):
    """Presence hook: someone who is not on the session's list is in the call."""

    def user_ids_in_call(self, session_id: int) -> set[int]:
        return {10**9}


def complete(
    session: Session, actor: Any, *, minutes: Any = 60, recap: Any = None, **kwargs: Any
) -> CompletionResult:
    return complete_session(
        session_id=session.pk,
        actor=actor,
        minutes=minutes,
        recap=GOOD_RECAP if recap is None else recap,
        **kwargs,
    )


def answers_of_length(total: int, *, pad: str = "") -> dict[str, str]:
    topics = ("Moles, molar mass and limiting reagents; " * 10)[: total - 2]
    if topics.endswith(" "):
        topics = topics[:-1] + "."
    return {
        "topics_covered": f"{pad}{topics}{pad}",
        "tutee_progress": f"{pad}a{pad}",
        "next_steps": f"{pad}b{pad}",
    }


def balance(account_kind: str, **filters: Any) -> int:
    account = Account.objects.filter(kind=account_kind, **filters).first()
    return balance_cents(account) if account else 0


def assert_nothing_written(session: Session, status: str, ended_at: datetime | None = None) -> None:
    assert Completion.objects.count() == 0
    assert Transfer.objects.count() == 0
    assert Entry.objects.count() == 0
    assert not Account.objects.exclude(balance_cents=0).exists()
    assert not AuditEntry.objects.filter(action__startswith="session.completed").exists()
    session.refresh_from_db()
    assert session.status == status
    assert session.ended_at == ended_at


def refused(
    error: type[DomainError], code: str, session: Session, actor: Any, **kwargs: Any
) -> DomainError:
    """Attempt a completion that must be refused with `code`, and check it wrote nothing."""
    status, ended_at = Session.objects.values_list("status", "ended_at").get(pk=session.pk)
    with pytest.raises(error) as raised:
        complete(session, actor, **kwargs)
    assert raised.value.code == code
    assert_nothing_written(session, status, ended_at)
    return raised.value


def assert_paid_once(session: Session, *, amount: int, tutor: Any) -> Transfer:
    transfer = Transfer.objects.get()
    assert transfer.kind == TransferKind.EARNING
    assert transfer.amount_cents == amount
    assert transfer.currency == "USD"
    assert transfer.session_id == session.pk
    assert transfer.organization_id == session.organization_id
    entries = {
        (e.account.kind, e.account.user_id): e.amount_cents
        for e in transfer.entries.select_related("account")
    }
    assert entries == {
        (AccountKind.TUTOR_EARNINGS, tutor.pk): amount,
        (AccountKind.PROGRAM_BUDGET, None): -amount,
    }
    assert balance(AccountKind.TUTOR_EARNINGS, user=tutor) == amount
    assert balance(AccountKind.PROGRAM_BUDGET, organization_id=session.organization_id) == -amount
    return transfer


# -- the successful completion ------------------------------------------------------------


def test_the_tutor_completes_the_session(cast: Cast, session: Session) -> None:
    with time_machine.travel(timezone.now(), tick=False):
        now = timezone.now()
        result = complete(session, cast.tutor, minutes=60, idempotency_key="key-1")
    assert result.replayed is False
    completion = result.completion
    completion.refresh_from_db()
    assert completion.session == session
    assert completion.minutes == 60
    assert completion.hourly_rate_cents == 1500
    assert completion.topics_covered == GOOD_RECAP["topics_covered"]
    assert completion.tutee_progress == GOOD_RECAP["tutee_progress"]
    assert completion.next_steps == GOOD_RECAP["next_steps"]
    assert completion.completed_by == cast.tutor
    assert completion.on_behalf_reason == ""
    assert completion.idempotency_key == "key-1"

    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    assert session.ended_at == now

    transfer = assert_paid_once(session, amount=1500, tutor=cast.tutor)
    assert completion.earning == transfer
    assert transfer.created_by == cast.tutor
    assert transfer.idempotency_key == f"earning:session:{session.pk}"

    entry = AuditEntry.objects.get(action="session.completed")
    assert entry.actor == cast.tutor
    assert entry.session == session
    assert entry.organization == cast.org
    assert entry.data["minutes"] == 60
    assert entry.data["earnings_cents"] == 1500
    assert entry.data["hourly_rate_cents"] == 1500
    assert entry.data["currency"] == "USD"
    assert entry.data["transfer_id"] == transfer.pk
    assert entry.data["reason"] is None
    assert entry.data["on_behalf_of"] is None
    assert entry.data["ended_call"] is False
    assert AuditEntry.objects.count() == 1


def test_the_recap_is_stored_trimmed(cast: Cast, session: Session) -> None:
    recap = {key: f"  \n{value}\t \n" for key, value in GOOD_RECAP.items()}
    completion = complete(session, cast.tutor, recap=recap).completion
    assert completion.topics_covered == GOOD_RECAP["topics_covered"]
    assert completion.next_steps == GOOD_RECAP["next_steps"]


@pytest.mark.parametrize(
    ("rate", "minutes", "expected"),
    [
        (None, 55, 1375),  # the organization's default, $15.00 × 55 min
        (1799, 25, 750),  # $17.99 × 25 min = 749.58 → 750
        (1506, 5, 126),  # 125.5 exactly → half up
        (1505, 5, 125),
        (100, 5, 8),
        (2250, 90, 3375),
    ],
)
def test_exact_earnings(
    cast: Cast, session: Session, rate: int | None, minutes: int, expected: int
) -> None:
    if rate is not None:
        f.set_rate(cast.org, cast.tutor, rate)
    completion = complete(session, cast.tutor, minutes=minutes).completion
    assert completion.hourly_rate_cents == (rate or 1500)
    assert_paid_once(session, amount=expected, tutor=cast.tutor)
    data = AuditEntry.objects.get(action="session.completed").data
    assert (data["minutes"], data["earnings_cents"], data["hourly_rate_cents"]) == (
        minutes,
        expected,
        rate or 1500,
    )


def test_the_organization_default_rate_applies_without_an_override(
    cast: Cast, session: Session
) -> None:
    cast.org.default_hourly_rate_cents = 2000
    cast.org.save()
    f.set_rate(cast.other_org, cast.tutor, 9900)  # another organization's rate does not apply
    complete(session, cast.tutor, minutes=45)
    assert_paid_once(session, amount=1500, tutor=cast.tutor)


def test_balances_add_up_over_several_sessions(cast: Cast) -> None:
    f.set_rate(cast.org, cast.tutor, 1799)
    amounts = {25: 750, 55: 1649, 90: 2699}  # 1649.08 → 1649, 2698.5 → 2699
    for minutes in amounts:
        s = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
        complete(s, cast.tutor, minutes=minutes)
    total = sum(amounts.values())
    assert balance(AccountKind.TUTOR_EARNINGS, user=cast.tutor) == total
    assert balance(AccountKind.PROGRAM_BUDGET, organization=cast.org) == -total
    assert sorted(Transfer.objects.values_list("amount_cents", flat=True)) == [750, 1649, 2699]
    for account in Account.objects.all():
        summed = account.entries.aggregate(total=Sum("amount_cents"))["total"]
        assert balance_cents(account) == summed
        assert account.balance_cents == (0 if account.kind in DERIVED_BALANCE_KINDS else summed)
    assert Entry.objects.aggregate(total=Sum("amount_cents"))["total"] == 0


@pytest.mark.parametrize("status", [Status.STARTING, Status.IN_PROGRESS])
def test_an_online_session_under_way_can_be_completed(cast: Cast, status: Status) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], mode=Mode.ONLINE, status=status
    )
    # Nothing was measured in a classroom here: the tutor confirms the time.
    complete(s, cast.tutor, confirm_time=True)
    s.refresh_from_db()
    assert s.status == Status.COMPLETED


# -- rule 1: who completes ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["student", "other_tutor", "admin"])
def test_others_in_the_organization_are_forbidden(cast: Cast, session: Session, who: str) -> None:
    error = refused(Forbidden, "forbidden", session, getattr(cast, who))
    assert error.http_status == 403


def test_the_student_is_told_only_the_tutor_completes(cast: Cast, session: Session) -> None:
    error = refused(Forbidden, "forbidden", session, cast.student)
    assert error.message == "Only the session's tutor can complete it."


def test_an_outsider_gets_not_found(cast: Cast, session: Session) -> None:
    error = refused(NotFound, "not_found", session, cast.outsider)
    assert error.http_status == 404


@pytest.mark.parametrize("session_id", [0, -1, "abc", 10**9, None])
def test_an_unknown_session_is_not_found(cast: Cast, session: Session, session_id: object) -> None:
    with pytest.raises(NotFound):
        complete_session(
            session_id=session_id,  # type: ignore[arg-type]
            actor=cast.tutor,
            minutes=60,
            recap=GOOD_RECAP,
        )
    assert_nothing_written(session, Status.SCHEDULED)


@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_a_support_agent_must_give_a_reason(
    cast: Cast, session: Session, reason: str | None
) -> None:
    error = refused(InvalidInput, "reason_required", session, cast.agent, on_behalf_reason=reason)
    assert error.message == "Give the reason you are logging this session on the tutor's behalf."


def test_a_support_agent_completes_for_the_tutor_after_the_grace_period(cast: Cast) -> None:
    late = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student],
        start=timezone.now() - 100 * HOUR,
    )  # fmt: skip
    refused(RuleViolation, "grace_period_expired", late, cast.tutor)
    result = complete(
        late, cast.agent, minutes=45, on_behalf_reason="  Tutor was in hospital; confirmed.  "
    )
    completion = result.completion
    assert completion.completed_by == cast.agent
    assert completion.on_behalf_reason == "Tutor was in hospital; confirmed."
    transfer = assert_paid_once(late, amount=1125, tutor=cast.tutor)
    assert transfer.created_by == cast.agent
    assert not Account.objects.filter(user=cast.agent).exists()
    late.refresh_from_db()
    assert late.status == Status.COMPLETED
    entry = AuditEntry.objects.get()
    assert entry.action == "session.completed_by_support"
    assert entry.actor == cast.agent
    assert entry.data["reason"] == "Tutor was in hospital; confirmed."
    assert entry.data["on_behalf_of"] == cast.tutor.pk
    assert entry.data["earnings_cents"] == 1125


def test_a_support_agent_within_the_grace_period_also_records_the_reason(
    cast: Cast, session: Session
) -> None:
    complete(session, cast.agent, on_behalf_reason="Tutor's laptop broke")
    assert AuditEntry.objects.get().action == "session.completed_by_support"
    assert_paid_once(session, amount=1500, tutor=cast.tutor)


def test_a_support_agent_is_still_bound_by_the_other_rules(cast: Cast) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
        states=[PS.ACCEPTED, PS.INVITED],
    )  # fmt: skip
    refused(RuleViolation, "participants_not_accepted", s, cast.agent, on_behalf_reason="Asked")
    future = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student],
        start=timezone.now() + HOUR,
    )  # fmt: skip
    refused(RuleViolation, "session_not_started", future, cast.agent, on_behalf_reason="Asked")


def test_the_tutor_s_reason_is_ignored(cast: Cast, session: Session) -> None:
    completion = complete(session, cast.tutor, on_behalf_reason="not needed").completion
    assert completion.on_behalf_reason == ""
    assert AuditEntry.objects.get().action == "session.completed"


# -- rule 2: participants -----------------------------------------------------------------


def test_an_invited_participant_blocks_completion(cast: Cast) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
        states=[PS.ACCEPTED, PS.INVITED],
    )  # fmt: skip
    error = refused(RuleViolation, "participants_not_accepted", s, cast.tutor)
    assert error.message == (
        "Sam Lee has not accepted the invitation yet. If they did not come, remove them from "
        "the session, then complete it."
    )
    assert error.extra == {"user_ids": [cast.student2.pk]}


def test_several_invited_participants_are_all_named(cast: Cast) -> None:
    third = f.make_user(name="Ana Ortiz")
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2, third],
        states=[PS.INVITED, PS.ACCEPTED, PS.INVITED],
    )  # fmt: skip
    error = refused(RuleViolation, "participants_not_accepted", s, cast.tutor)
    assert error.message.startswith("Maya Chen and Ana Ortiz have not accepted the invitation")


def test_after_removing_the_invited_participant_the_session_completes(
    cast: Cast, mailoutbox: list[mail.EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
        states=[PS.ACCEPTED, PS.INVITED],
    )  # fmt: skip
    refused(RuleViolation, "participants_not_accepted", s, cast.tutor)
    remove_participant(session_id=s.pk, actor=cast.tutor, user_id=cast.student2.pk)
    run_queued_tasks()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        complete(s, cast.tutor, minutes=30)
    run_queued_tasks()
    assert_paid_once(s, amount=750, tutor=cast.tutor)
    # The removed student is not sent the recap.
    assert [m.to for m in mailoutbox] == [["maya@example.test"]]


def test_a_declined_participant_does_not_block_completion(cast: Cast) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
        states=[PS.ACCEPTED, PS.DECLINED],
    )  # fmt: skip
    complete(s, cast.tutor)
    assert_paid_once(s, amount=1500, tutor=cast.tutor)


@pytest.mark.parametrize(
    "states", [[PS.REMOVED], [PS.DECLINED], [PS.REMOVED, PS.DECLINED], [PS.DECLINED] * 2]
)
def test_with_nobody_left_there_is_nothing_to_complete(cast: Cast, states: list[str]) -> None:
    students = [cast.student, cast.student2][: len(states)]
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=students, states=states, status=Status.SCHEDULED
    )
    error = refused(RuleViolation, "no_participants", s, cast.tutor)
    assert error.message.startswith("No student remains on this session")


def test_removing_the_only_student_leaves_nothing_to_complete(cast: Cast, session: Session) -> None:
    remove_participant(session_id=session.pk, actor=cast.tutor, user_id=cast.student.pk)
    refused(RuleViolation, "no_participants", session, cast.tutor)


def test_a_session_whose_students_all_declined_is_not_completable(cast: Cast) -> None:
    s = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], states=[PS.INVITED])
    decline_session(session_id=s.pk, actor=cast.student)
    refused(Conflict, "session_not_completable", s, cast.tutor)


# -- rule 3: not before it starts ---------------------------------------------------------


def test_a_future_session_cannot_be_completed(cast: Cast) -> None:
    cast.tutor.time_zone = "America/New_York"
    cast.tutor.save()
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=T0 + 10 * MINUTE
    )
    with time_machine.travel(T0, tick=False):
        error = refused(RuleViolation, "session_not_started", s, cast.tutor)
    assert error.message == (
        "This session starts on Mon, Mar 10 at 11:10 AM EDT; you can complete it from then."
    )
    assert error.http_status == 422


def test_a_session_can_be_completed_from_its_exact_start(cast: Cast) -> None:
    s = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=T0)
    with time_machine.travel(T0 - timedelta(seconds=1), tick=False):
        refused(RuleViolation, "session_not_started", s, cast.tutor)
    with time_machine.travel(T0, tick=False):
        complete(s, cast.tutor, minutes=5)
    assert_paid_once(s, amount=125, tutor=cast.tutor)


def test_an_online_session_can_be_completed_from_its_earlier_call_start(cast: Cast) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], mode=Mode.ONLINE,
        start=T0 + 10 * MINUTE,
    )  # fmt: skip
    Session.objects.filter(pk=s.pk).update(call_started_at=T0 - 5 * MINUTE)
    with time_machine.travel(T0 - 6 * MINUTE, tick=False):
        refused(RuleViolation, "session_not_started", s, cast.tutor)
    with time_machine.travel(T0, tick=False):
        complete(s, cast.tutor, minutes=15, confirm_time=True)
    assert_paid_once(s, amount=375, tutor=cast.tutor)


# -- rule 8: the grace period -------------------------------------------------------------


@pytest.fixture
def at_t0(cast: Cast) -> Session:
    """Starts at T0 for 60 minutes: ends T0 + 1 h, logging closes T0 + 73 h."""
    return f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=T0)


DEADLINE = T0 + HOUR + 72 * HOUR


def test_one_minute_before_the_deadline_is_in_time(cast: Cast, at_t0: Session) -> None:
    with time_machine.travel(DEADLINE - MINUTE, tick=False):
        complete(at_t0, cast.tutor)
    assert_paid_once(at_t0, amount=1500, tutor=cast.tutor)


def test_exactly_at_the_deadline_is_in_time(cast: Cast, at_t0: Session) -> None:
    with time_machine.travel(DEADLINE, tick=False):
        complete(at_t0, cast.tutor)
    assert_paid_once(at_t0, amount=1500, tutor=cast.tutor)


def test_one_minute_after_the_deadline_is_too_late(cast: Cast, at_t0: Session) -> None:
    with time_machine.travel(DEADLINE + MINUTE, tick=False):
        error = refused(RuleViolation, "grace_period_expired", at_t0, cast.tutor)
    assert error.message.startswith("Logging closed 1 minute ago")
    assert error.message == (
        "Logging closed 1 minute ago: the 72-hour grace period ended on Thu, Mar 13 at "
        "4:00 PM UTC. Ask Support to log this session for you."
    )
    assert error.extra == {"closed_at": DEADLINE.isoformat()}


def test_one_second_after_the_deadline_is_too_late(cast: Cast, at_t0: Session) -> None:
    with time_machine.travel(DEADLINE + timedelta(seconds=1), tick=False):
        error = refused(RuleViolation, "grace_period_expired", at_t0, cast.tutor)
    assert error.message.startswith("Logging closed less than a minute ago")


def test_the_closing_message_says_how_long_ago(cast: Cast, at_t0: Session) -> None:
    cast.tutor.time_zone = "America/New_York"
    cast.tutor.save()
    with time_machine.travel(DEADLINE + 27 * HOUR, tick=False):
        error = refused(RuleViolation, "grace_period_expired", at_t0, cast.tutor)
    assert error.message == (
        "Logging closed 27 hours ago: the 72-hour grace period ended on Thu, Mar 13 at "
        "12:00 PM EDT. Ask Support to log this session for you."
    )


def test_a_later_call_end_extends_the_deadline(cast: Cast) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], mode=Mode.ONLINE, start=T0
    )
    call_end = T0 + HOUR + 40 * MINUTE
    Session.objects.filter(pk=s.pk).update(call_started_at=T0, call_ended_at=call_end)
    with time_machine.travel(call_end + 72 * HOUR + MINUTE, tick=False):
        refused(RuleViolation, "grace_period_expired", s, cast.tutor)
    with time_machine.travel(DEADLINE + MINUTE, tick=False):
        complete(s, cast.tutor, minutes=90, confirm_time=True)
    assert_paid_once(s, amount=2250, tutor=cast.tutor)


def test_an_earlier_call_end_does_not_shorten_the_deadline(cast: Cast) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], mode=Mode.ONLINE, start=T0
    )
    Session.objects.filter(pk=s.pk).update(call_started_at=T0, call_ended_at=T0 + 20 * MINUTE)
    with time_machine.travel(DEADLINE - MINUTE, tick=False):
        complete(s, cast.tutor, minutes=20, confirm_time=True)
    assert_paid_once(s, amount=500, tutor=cast.tutor)


def test_the_organization_s_grace_hours_decide(cast: Cast, at_t0: Session) -> None:
    cast.org.grace_hours = 24
    cast.org.save()
    end = T0 + HOUR
    with time_machine.travel(end + 24 * HOUR + MINUTE, tick=False):
        error = refused(RuleViolation, "grace_period_expired", at_t0, cast.tutor)
    assert error.message.startswith("Logging closed 1 minute ago: the 24-hour grace period")
    with time_machine.travel(end + 24 * HOUR, tick=False):
        complete(at_t0, cast.tutor)
    assert_paid_once(at_t0, amount=1500, tutor=cast.tutor)


# -- rule 6: the time ---------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [4, 95, 0, 6, 91, -5, "60", 60.0, None, True])
def test_a_time_that_is_not_a_choice_is_refused(
    cast: Cast, session: Session, minutes: object
) -> None:
    error = refused(RuleViolation, "invalid_duration", session, cast.tutor, minutes=minutes)
    assert error.http_status == 422


@pytest.mark.parametrize(("minutes", "amount"), [(5, 125), (90, 2250)])
def test_the_shortest_and_longest_times_are_accepted(
    cast: Cast, session: Session, minutes: int, amount: int
) -> None:
    assert complete(session, cast.tutor, minutes=minutes).completion.minutes == minutes
    assert_paid_once(session, amount=amount, tutor=cast.tutor)


# -- rule 7: the recap --------------------------------------------------------------------


def test_a_recap_of_149_characters_is_too_short(cast: Cast, session: Session) -> None:
    error = refused(
        RuleViolation, "recap_too_short", session, cast.tutor, recap=answers_of_length(149)
    )
    assert error.message.startswith(
        "Your recap has 149 characters; it needs at least 150 (1 more)."
    )


def test_a_recap_of_150_characters_is_enough(cast: Cast, session: Session) -> None:
    complete(session, cast.tutor, recap=answers_of_length(150))
    assert AuditEntry.objects.get().data["recap_characters"] == 150
    assert_paid_once(session, amount=1500, tutor=cast.tutor)


def test_padding_does_not_make_a_recap_long_enough(cast: Cast, session: Session) -> None:
    padded = answers_of_length(149, pad=" \n\n\t " * 20)
    error = refused(RuleViolation, "recap_too_short", session, cast.tutor, recap=padded)
    assert error.extra == {"characters": 149, "required": 150}


def test_a_padded_recap_of_150_characters_is_enough(cast: Cast, session: Session) -> None:
    complete(session, cast.tutor, recap=answers_of_length(150, pad="   \n"))
    completion = Completion.objects.get()
    assert completion.tutee_progress == "a"
    assert completion.next_steps == "b"


def test_the_organization_s_minimum_decides(cast: Cast, session: Session) -> None:
    cast.org.min_recap_chars = 200
    cast.org.save()
    refused(RuleViolation, "recap_too_short", session, cast.tutor, recap=answers_of_length(199))
    complete(session, cast.tutor, recap=answers_of_length(200))


@pytest.mark.parametrize("key", ["topics_covered", "tutee_progress", "next_steps"])
def test_an_empty_prompt_is_named(cast: Cast, session: Session, key: str) -> None:
    recap = {**GOOD_RECAP, key: "   "}
    error = refused(RuleViolation, "recap_incomplete", session, cast.tutor, recap=recap)
    assert error.extra == {"missing": [key]}


def test_a_non_text_answer_is_invalid_input(cast: Cast, session: Session) -> None:
    error = refused(
        InvalidInput,
        "invalid_input",
        session,
        cast.tutor,
        recap={**GOOD_RECAP, "next_steps": ["a", "list"]},
    )
    assert error.http_status == 400


def test_a_control_character_in_the_recap_is_refused(cast: Cast, session: Session) -> None:
    recap = {**GOOD_RECAP, "topics_covered": GOOD_RECAP["topics_covered"] + "\x00"}
    refused(InvalidInput, "invalid_input", session, cast.tutor, recap=recap)


def test_an_overlong_answer_is_refused(cast: Cast, session: Session) -> None:
    recap = {**GOOD_RECAP, "topics_covered": "x" * 4001}
    refused(InvalidInput, "text_too_long", session, cast.tutor, recap=recap)


# -- rule 9: once, atomically -------------------------------------------------------------


def test_the_same_key_twice_replays_the_first_completion(cast: Cast, session: Session) -> None:
    first = complete(session, cast.tutor, idempotency_key="abc-123")
    second = complete(session, cast.tutor, minutes=90, idempotency_key="abc-123")
    assert (first.replayed, second.replayed) == (False, True)
    assert second.completion.pk == first.completion.pk
    assert second.completion.minutes == 60
    assert Completion.objects.count() == 1
    assert_paid_once(session, amount=1500, tutor=cast.tutor)
    assert AuditEntry.objects.filter(action="session.completed").count() == 1


def test_the_key_is_compared_trimmed(cast: Cast, session: Session) -> None:
    complete(session, cast.tutor, idempotency_key="abc-123")
    assert complete(session, cast.tutor, idempotency_key="  abc-123 ").replayed is True


def test_a_different_key_after_completion_is_a_conflict(cast: Cast, session: Session) -> None:
    complete(session, cast.tutor, idempotency_key="first")
    with pytest.raises(Conflict) as raised:
        complete(session, cast.tutor, idempotency_key="second")
    assert raised.value.code == "already_completed"
    assert raised.value.http_status == 409
    assert raised.value.message == "This session has already been completed (1 h logged)."
    assert_paid_once(session, amount=1500, tutor=cast.tutor)


def test_completing_twice_without_a_key_is_a_conflict(cast: Cast, session: Session) -> None:
    complete(session, cast.tutor)
    with pytest.raises(Conflict) as raised:
        complete(session, cast.tutor)
    assert raised.value.code == "already_completed"
    assert Completion.objects.count() == 1
    assert_paid_once(session, amount=1500, tutor=cast.tutor)


def test_a_key_used_for_another_session_is_refused(cast: Cast, session: Session) -> None:
    complete(session, cast.tutor, idempotency_key="shared")
    other = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student2])
    with pytest.raises(Conflict) as raised:
        complete(other, cast.tutor, idempotency_key="shared")
    assert raised.value.code == "idempotency_key_reused"
    other.refresh_from_db()
    assert other.status == Status.SCHEDULED
    assert not Completion.objects.filter(session=other).exists()
    assert_paid_once(session, amount=1500, tutor=cast.tutor)
    # The same key from another person is theirs to use.
    other_tutors = f.make_session(org=cast.org, tutor=cast.other_tutor, students=[cast.student2])
    assert complete(other_tutors, cast.other_tutor, idempotency_key="shared").replayed is False


@pytest.mark.parametrize("key", ["", "   ", "\t"])
def test_a_blank_key_counts_as_none(cast: Cast, session: Session, key: str) -> None:
    assert complete(session, cast.tutor, idempotency_key=key).completion.idempotency_key is None
    with pytest.raises(Conflict) as raised:
        complete(session, cast.tutor, idempotency_key=key)
    assert raised.value.code == "already_completed"


def test_blank_keys_do_not_collide_across_sessions(cast: Cast, session: Session) -> None:
    other = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student2])
    complete(session, cast.tutor, idempotency_key="")
    complete(other, cast.tutor, idempotency_key=" ")
    assert Completion.objects.filter(idempotency_key__isnull=True).count() == 2


@pytest.mark.parametrize("key", ["k" * 129, "line\nbreak", "nul\x00", "tab\tkey"])
def test_a_malformed_key_is_refused(cast: Cast, session: Session, key: str) -> None:
    error = refused(
        InvalidInput, "invalid_idempotency_key", session, cast.tutor, idempotency_key=key
    )
    assert error.http_status == 400


def test_a_key_of_128_characters_is_fine(cast: Cast, session: Session) -> None:
    key = "k" * 128
    assert complete(session, cast.tutor, idempotency_key=key).completion.idempotency_key == key


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Status.REQUESTED, "You have not accepted this request yet; accept it first"),
        (Status.CANCELED, "This session was canceled, so there is nothing to log."),
        (Status.DECLINED, "This session was declined, so there is nothing to log."),
        (Status.MISSED, "This session was missed (no student accepted it)"),
    ],
)
def test_sessions_in_other_states_are_not_completable(
    cast: Cast, status: Status, message: str
) -> None:
    s = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], status=status)
    error = refused(Conflict, "session_not_completable", s, cast.tutor)
    assert error.message.startswith(message)
    assert error.http_status == 409


def test_a_completed_session_is_already_completed(cast: Cast) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], status=Status.COMPLETED
    )
    error = refused(Conflict, "already_completed", s, cast.tutor)
    assert error.message == "This session has already been completed."


def test_a_race_lost_at_the_constraint_is_already_completed(cast: Cast, session: Session) -> None:
    """Where the row lock is not enforced, the unique earning per session is the last line."""
    complete(session, cast.tutor)
    # Pretend the status write was lost: the constraints still refuse a second earning.
    Session.objects.filter(pk=session.pk).update(status=Status.SCHEDULED, ended_at=None)
    Completion.objects.filter(session=session).update(idempotency_key="winner")
    with pytest.raises(Conflict) as raised:
        complete(session, cast.tutor, idempotency_key="loser")
    assert raised.value.code == "already_completed"
    assert Completion.objects.count() == 1
    assert Transfer.objects.count() == 1
    assert balance(AccountKind.TUTOR_EARNINGS, user=cast.tutor) == 1500


def test_nothing_is_written_when_a_step_fails(
    cast: Cast,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    def broken_audit(**_: Any) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr("studyhall.tutoring.services.completion.audit.record", broken_audit)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError, match="audit log unavailable"),
    ):
        complete(session, cast.tutor, idempotency_key="k1")
    run_queued_tasks()
    assert callbacks == []
    assert_nothing_written(session, Status.SCHEDULED)
    assert Account.objects.count() == 0
    assert AuditEntry.objects.count() == 0
    assert mailoutbox == []
    # With the audit log back, the same request goes through once.
    monkeypatch.undo()
    assert complete(session, cast.tutor, idempotency_key="k1").replayed is False
    assert_paid_once(session, amount=1500, tutor=cast.tutor)


# -- rule 4 hook: who is still in the call ------------------------------------------------


@pytest.fixture
def online(cast: Cast) -> Session:
    return f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
        mode=Mode.ONLINE, status=Status.IN_PROGRESS,
    )  # fmt: skip


@override_settings(STUDYHALL_CALL_PRESENCE=f"{PRESENCE}.StudentInCall")
def test_students_still_in_the_call_block_completion(cast: Cast, online: Session) -> None:
    error = refused(RuleViolation, "participants_in_call", online, cast.tutor)
    assert error.message == (
        "Maya Chen and Sam Lee are still in the call. Complete the session once everyone has "
        "left, or use “Log time & leave call” in the classroom."
    )
    assert error.extra == {"user_ids": sorted([cast.student.pk, cast.student2.pk])}


@override_settings(STUDYHALL_CALL_PRESENCE=f"{PRESENCE}.StudentInCall")
def test_one_student_still_in_the_call_is_named(cast: Cast) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], mode=Mode.ONLINE,
        status=Status.IN_PROGRESS,
    )  # fmt: skip
    error = refused(RuleViolation, "participants_in_call", s, cast.tutor)
    assert error.message.startswith("Maya Chen is still in the call.")


@override_settings(STUDYHALL_CALL_PRESENCE=f"{PRESENCE}.StudentInCall")
def test_log_time_and_leave_call_completes_with_students_in_it(cast: Cast, online: Session) -> None:
    complete(online, cast.tutor, ending_call=True, confirm_time=True)
    online.refresh_from_db()
    assert online.status == Status.COMPLETED
    assert AuditEntry.objects.get().data["ended_call"] is True
    assert_paid_once(online, amount=1500, tutor=cast.tutor)


@override_settings(STUDYHALL_CALL_PRESENCE=f"{PRESENCE}.TutorInCall")
def test_the_tutor_alone_in_the_call_does_not_block(cast: Cast, online: Session) -> None:
    complete(online, cast.tutor, confirm_time=True)
    assert_paid_once(online, amount=1500, tutor=cast.tutor)


@override_settings(STUDYHALL_CALL_PRESENCE=f"{PRESENCE}.StrangerInCall")
def test_someone_unlisted_in_the_call_still_blocks(cast: Cast, online: Session) -> None:
    error = refused(RuleViolation, "participants_in_call", online, cast.tutor)
    assert error.message.startswith("1 participant(s) is still in the call.")


def test_without_a_classroom_nobody_is_in_the_call(cast: Cast, online: Session) -> None:
    complete(online, cast.tutor, confirm_time=True)
    assert_paid_once(online, amount=1500, tutor=cast.tutor)


# -- the recap email ----------------------------------------------------------------------


def test_each_accepted_student_is_sent_the_recap(
    cast: Cast, mailoutbox: list[mail.EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    s = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        complete(s, cast.tutor)
    run_queued_tasks()
    assert sorted(m.to[0] for m in mailoutbox) == ["maya@example.test", "sam@example.test"]
    for message in mailoutbox:
        assert len(message.to) == 1
        assert message.subject == "Recap of your CHEM 110 session with Tess Tutor"
        for answer in GOOD_RECAP.values():
            assert answer in message.body


def test_a_refused_completion_sends_no_email(
    cast: Cast,
    session: Session,
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refused(RuleViolation, "recap_too_short", session, cast.tutor, recap=answers_of_length(10))
    run_queued_tasks()
    assert callbacks == []
    assert mailoutbox == []


def test_a_replay_sends_no_second_email(
    cast: Cast,
    session: Session,
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        complete(session, cast.tutor, idempotency_key="once")
    run_queued_tasks()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert complete(session, cast.tutor, idempotency_key="once").replayed
    run_queued_tasks()
    assert callbacks == []
    assert len(mailoutbox) == 1


# -- error classes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (InvalidInput, "invalid_input", 400),
        (Forbidden, "forbidden", 403),
        (NotFound, "not_found", 404),
        (Conflict, "conflict", 409),
        (RuleViolation, "domain_error", 422),
    ],
)
def test_each_error_class_has_its_http_status(
    error: type[DomainError], code: str, status: int
) -> None:
    raised = error("Something precise.", code=None, field="x")
    assert (raised.code, raised.http_status, raised.message) == (code, status, "Something precise.")
    assert raised.extra == {"field": "x"}
    assert error("Other.", code="recap_too_short").code == "recap_too_short"
    # A custom code on one instance does not leak into the class.
    assert error.code == code
