"""POST /api/v1/sessions/{id}/complete: every rule's code through the API, exact earnings,
idempotency, and nothing written by any refusal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.api.tests.support import Api, assert_problem
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import Account, Entry, Transfer
from studyhall.ledger.selectors import balance_cents
from studyhall.testing import factories as f
from studyhall.tutoring.call_presence import NoCallPresence
from studyhall.tutoring.models import (
    Completion,
    Mode,
    ParticipantState,
    Session,
    Status,
    TimeProposal,
)

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = pytest.mark.postgres

ApiAs = Callable[[User | None], Api]
RECAP = dict(f.GOOD_RECAP)


class StudentInCall(NoCallPresence):
    """Call presence for these tests: whoever `present` names is in every call."""

    present: ClassVar[set[int]] = set()

    def user_ids_in_call(self, session_id: int) -> set[int]:
        return set(self.present)


@pytest.fixture
def session(cast: Cast) -> Session:
    """In person, began an hour ago, everyone accepted: ready to complete."""
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() - timedelta(hours=1),
        minutes=60,
    )


@pytest.fixture
def tutor(cast: Cast, api_as: ApiAs) -> Api:
    return api_as(cast.tutor)


def complete(api: Api, session: Session, body: Any, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.post(f"/sessions/{session.pk}/complete", body, headers=headers)


def assert_nothing_written(session: Session, status: str = Status.SCHEDULED) -> None:
    assert Completion.objects.count() == 0
    assert Transfer.objects.count() == 0
    assert Entry.objects.count() == 0
    assert not Account.objects.exclude(balance_cents=0).exists()
    assert not AuditEntry.objects.filter(action__startswith="session.completed").exists()
    session.refresh_from_db()
    assert session.status == status
    assert session.ended_at is None


def tutor_balance(cast: Cast) -> int:
    return Account.objects.get(kind="tutor_earnings", user=cast.tutor).balance_cents


# -- success and money -----------------------------------------------------------------------


def test_completing_returns_the_completed_session_with_exact_earnings(
    cast: Cast, session: Session, tutor: Api
) -> None:
    response = complete(tutor, session, {"minutes": 55, "recap": RECAP})

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "Idempotent-Replayed" not in response
    body = response.json()
    assert body["id"] == session.pk
    assert body["status"] == "completed"
    assert body["logged_minutes"] == 55
    assert body["earnings"] == {"amount_cents": 1375, "currency": "USD"}
    assert body["recap"] == RECAP
    completion = Completion.objects.get()
    assert (completion.minutes, completion.hourly_rate_cents) == (55, 1500)
    assert completion.completed_by == cast.tutor
    transfer = Transfer.objects.get()
    assert (transfer.kind, transfer.amount_cents, transfer.session_id) == (
        "earning",
        1375,
        session.pk,
    )
    assert tutor_balance(cast) == 1375
    assert balance_cents(Account.objects.get(kind="program_budget", organization=cast.org)) == -1375


def test_a_tutors_own_rate_applies_and_rounds_half_up(
    cast: Cast, session: Session, tutor: Api
) -> None:
    f.set_rate(cast.org, cast.tutor, 1799)

    response = complete(tutor, session, {"minutes": 25, "recap": RECAP})

    # 1799 × 25 / 60 = 749.58… → 750 cents.
    assert response.json()["earnings"] == {"amount_cents": 750, "currency": "USD"}
    assert Transfer.objects.get().amount_cents == 750
    assert tutor_balance(cast) == 750


@pytest.mark.parametrize(("minutes", "cents"), [(5, 125), (90, 2250)])
def test_the_shortest_and_longest_times_are_accepted(
    cast: Cast, session: Session, tutor: Api, minutes: int, cents: int
) -> None:
    response = complete(tutor, session, {"minutes": minutes, "recap": RECAP})

    assert response.status_code == 200, response.content
    assert response.json()["earnings"]["amount_cents"] == cents


def test_the_balance_and_transactions_show_the_earning(
    cast: Cast, session: Session, tutor: Api
) -> None:
    complete(tutor, session, {"minutes": 55, "recap": RECAP})
    transfer = Transfer.objects.get()

    balance = tutor.get("/me/balance")
    history = tutor.get("/me/transactions")

    assert balance.json() == {"balances": [{"currency": "USD", "amount_cents": 1375}]}
    assert history.json() == {
        "transactions": [
            {
                "id": transfer.pk,
                "kind": "earning",
                "amount_cents": 1375,
                "currency": "USD",
                "description": transfer.description,
                "created_at": history.json()["transactions"][0]["created_at"],
                "session_id": session.pk,
                "minutes": 55,
                "hourly_rate_cents": 1500,
                "computation": "55 min × $15.00/h = $13.75",
                "payout": None,
            }
        ],
        "limit": 50,
        "offset": 0,
        "next_offset": None,
    }
    assert transfer.description.startswith("CHEM 110 session on ")
    assert transfer.description.endswith(" · 55 min at $15.00/h")
    created = datetime.fromisoformat(history.json()["transactions"][0]["created_at"])
    assert abs(created - transfer.created_at) < timedelta(milliseconds=1)


def test_transactions_page_newest_first(cast: Cast, tutor: Api) -> None:
    sessions = [
        f.make_session(
            org=cast.org,
            tutor=cast.tutor,
            students=[cast.student],
            start=timezone.now() - timedelta(hours=hours),
        )
        for hours in (3, 2, 1)
    ]
    for minutes, session in zip((15, 30, 45), sessions, strict=True):
        assert complete(tutor, session, {"minutes": minutes, "recap": RECAP}).status_code == 200

    first = tutor.get("/me/transactions", limit=2).json()
    rest = tutor.get("/me/transactions", limit=2, offset=2).json()

    assert [(t["session_id"], t["amount_cents"]) for t in first["transactions"]] == [
        (sessions[2].pk, 1125),
        (sessions[1].pk, 750),
    ]
    assert first["next_offset"] == 2
    assert [(t["session_id"], t["amount_cents"]) for t in rest["transactions"]] == [
        (sessions[0].pk, 375)
    ]
    assert rest["next_offset"] is None
    assert tutor.get("/me/balance").json() == {
        "balances": [{"currency": "USD", "amount_cents": 375 + 750 + 1125}]
    }


def test_a_student_has_no_balance(cast: Cast, session: Session, tutor: Api, api_as: ApiAs) -> None:
    complete(tutor, session, {"minutes": 55, "recap": RECAP})

    student = api_as(cast.student)

    assert student.get("/me/balance").json() == {"balances": []}
    assert student.get("/me/transactions").json()["transactions"] == []


def test_a_support_agent_completes_after_the_grace_period_with_a_reason(
    cast: Cast, api_as: ApiAs
) -> None:
    late = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() - timedelta(hours=80),
    )

    response = api_as(cast.agent).post(
        f"/sessions/{late.pk}/complete",
        {"minutes": 60, "recap": RECAP, "reason": "Tutor was ill; confirmed by email."},
    )

    assert response.status_code == 200, response.content
    assert response.json()["earnings"] == {"amount_cents": 1500, "currency": "USD"}
    completion = Completion.objects.get()
    assert completion.completed_by == cast.agent
    assert completion.on_behalf_reason == "Tutor was ill; confirmed by email."
    assert tutor_balance(cast) == 1500
    entry = AuditEntry.objects.get(action="session.completed_by_support")
    assert entry.actor == cast.agent
    assert entry.data["reason"] == "Tutor was ill; confirmed by email."


def test_a_support_agent_must_give_a_reason(cast: Cast, session: Session, api_as: ApiAs) -> None:
    response = api_as(cast.agent).post(
        f"/sessions/{session.pk}/complete", {"minutes": 60, "recap": RECAP}
    )

    body = assert_problem(response, 400, "reason_required")
    assert body["detail"] == "Give the reason you are logging this session on the tutor's behalf."
    assert_nothing_written(session)


# -- who may complete ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status", "code", "detail"),
    [
        ("student", 403, "forbidden", "Only the session's tutor can complete it."),
        ("admin", 403, "forbidden", "Only the session's tutor can complete it."),
        ("other_tutor", 403, "forbidden", "You are not part of this session."),
        ("outsider", 404, "not_found", "There is no such session."),
    ],
)
def test_only_the_tutor_completes(
    cast: Cast, session: Session, api_as: ApiAs, who: str, status: int, code: str, detail: str
) -> None:
    response = complete(api_as(getattr(cast, who)), session, {"minutes": 55, "recap": RECAP})

    assert assert_problem(response, status, code)["detail"] == detail
    assert_nothing_written(session)


def test_no_credentials_complete_nothing(cast: Cast, session: Session, api_as: ApiAs) -> None:
    assert_problem(
        complete(api_as(None), session, {"minutes": 55, "recap": RECAP}), 401, "not_authenticated"
    )
    assert_nothing_written(session)


# -- each refusal, through the API -----------------------------------------------------------


@pytest.mark.parametrize("minutes", [4, 7, 95, 0, -5, 10**12])
def test_a_time_off_the_5_minute_grid_is_invalid_duration(
    session: Session, tutor: Api, minutes: int
) -> None:
    response = complete(tutor, session, {"minutes": minutes, "recap": RECAP})

    body = assert_problem(response, 422, "invalid_duration")
    assert body["detail"] == (
        "The time spent must be one of 5, 10, 15 … 90 minutes (5-minute steps, at most "
        f"1 h 30 min); {minutes} is not. If the real time falls between two choices, round up."
    )
    assert_nothing_written(session)


@pytest.mark.parametrize(
    ("recap", "missing", "detail"),
    [
        (
            None,
            ["topics_covered", "tutee_progress", "next_steps"],
            "Answer every recap prompt; “Topics covered”, “How your tutee did” and “Next steps” "
            "are empty.",
        ),
        (
            {**RECAP, "next_steps": "   "},
            ["next_steps"],
            "Answer every recap prompt; “Next steps” is empty.",
        ),
        (
            {"topics_covered": RECAP["topics_covered"]},
            ["tutee_progress", "next_steps"],
            "Answer every recap prompt; “How your tutee did” and “Next steps” are empty.",
        ),
        (
            {**RECAP, "tutee_progress": None},
            ["tutee_progress"],
            "Answer every recap prompt; “How your tutee did” is empty.",
        ),
    ],
)
def test_a_missing_recap_answer_is_recap_incomplete(
    session: Session, tutor: Api, recap: dict[str, Any] | None, missing: list[str], detail: str
) -> None:
    body: dict[str, Any] = {"minutes": 55}
    if recap is not None:
        body["recap"] = recap

    problem = assert_problem(complete(tutor, session, body), 422, "recap_incomplete")

    assert problem["detail"] == detail
    assert problem["missing"] == missing
    assert_nothing_written(session)


def recap_counting(next_steps_letters: int) -> dict[str, str]:
    """Answers padded with runs of white space, which count as one space each (or nothing at
    the ends): 48 + 54 + 11 + `next_steps_letters` characters as the rule counts them."""
    return {
        "topics_covered": "  Topics:\t\t" + "t" * 40 + "  ",  # "Topics: " + 40 = 48
        "tutee_progress": "\nGood   progress " + "p" * 40 + "\n",  # "Good progress " + 40 = 54
        "next_steps": "Next  steps " + "n" * next_steps_letters,  # "Next steps " + n = 11 + n
    }


def test_a_recap_of_149_counted_characters_is_too_short(session: Session, tutor: Api) -> None:
    recap = recap_counting(36)
    assert sum(len(v) for v in recap.values()) == 159  # 149 once white space is collapsed

    problem = assert_problem(
        complete(tutor, session, {"minutes": 55, "recap": recap}), 422, "recap_too_short"
    )

    assert problem["detail"] == (
        "Your recap has 149 characters; it needs at least 150 (1 more). Two complete "
        "sentences are usually plenty."
    )
    assert (problem["characters"], problem["required"]) == (149, 150)
    assert_nothing_written(session)


def test_a_recap_of_exactly_150_counted_characters_is_enough(session: Session, tutor: Api) -> None:
    response = complete(tutor, session, {"minutes": 55, "recap": recap_counting(37)})

    assert response.status_code == 200, response.content
    assert response.json()["recap"] == {
        "topics_covered": "Topics:\t\t" + "t" * 40,
        "tutee_progress": "Good   progress " + "p" * 40,
        "next_steps": "Next  steps " + "n" * 37,
    }


def test_an_invited_student_blocks_completion_until_removed(cast: Cast, tutor: Api) -> None:
    group = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        states=[ParticipantState.ACCEPTED, ParticipantState.INVITED],
        start=timezone.now() - timedelta(hours=1),
    )

    refused = complete(tutor, group, {"minutes": 55, "recap": RECAP})

    problem = assert_problem(refused, 422, "participants_not_accepted")
    assert problem["detail"] == (
        "Sam Lee has not accepted the invitation yet. If they did not come, remove them from "
        "the session, then complete it."
    )
    assert problem["user_ids"] == [cast.student2.pk]
    assert_nothing_written(group, Status.INVITED)

    removed = tutor.post(f"/sessions/{group.pk}/participants/{cast.student2.pk}/remove")
    assert removed.json()["status"] == "scheduled"
    completed = complete(tutor, group, {"minutes": 55, "recap": RECAP})
    assert completed.status_code == 200, completed.content
    assert completed.json()["earnings"] == {"amount_cents": 1375, "currency": "USD"}


def test_a_session_with_no_student_left_is_no_participants(cast: Cast, tutor: Api) -> None:
    empty = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        states=[ParticipantState.REMOVED],
        start=timezone.now() - timedelta(hours=1),
    )

    problem = assert_problem(
        complete(tutor, empty, {"minutes": 55, "recap": RECAP}), 422, "no_participants"
    )

    assert problem["detail"] == (
        "No student remains on this session, so there is no one to log it for. Cancel it instead."
    )
    assert_nothing_written(empty)


@pytest.fixture
def student_in_call(cast: Cast) -> Iterator[None]:
    StudentInCall.present = {cast.student.pk}
    with override_settings(STUDYHALL_CALL_PRESENCE=f"{__name__}.StudentInCall"):
        yield
    StudentInCall.present = set()


def test_someone_still_in_the_call_is_participants_in_call(
    cast: Cast, tutor: Api, student_in_call: None
) -> None:
    online = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        mode=Mode.ONLINE,
        start=timezone.now() - timedelta(hours=1),
    )

    problem = assert_problem(
        complete(tutor, online, {"minutes": 55, "recap": RECAP}), 422, "participants_in_call"
    )

    assert problem["detail"] == (
        "Maya Chen is still in the call. Complete the session once everyone has left, or use "
        "“Log time & leave call” in the classroom."
    )
    assert problem["user_ids"] == [cast.student.pk]
    assert_nothing_written(online)


def test_an_online_time_with_nothing_measured_is_confirmed_in_the_body(
    cast: Cast, tutor: Api
) -> None:
    online = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        mode=Mode.ONLINE,
        start=timezone.now() - timedelta(hours=1),
    )
    body = {"minutes": 45, "recap": RECAP}

    problem = assert_problem(complete(tutor, online, body), 422, "confirm_unmeasured")
    assert problem["detail"] == (
        "The classroom measured no time with you and a student together, yet you are logging "
        "45 min. If you met anyway (by phone, say), confirm the time and log it again: the "
        "session will be flagged for your program to review."
    )
    assert (problem["minutes"], problem["measured_seconds"]) == (45, 0)
    assert_nothing_written(online)
    assert_problem(complete(tutor, online, body | {"confirm_time": "yes"}), 422, "validation_error")
    assert_nothing_written(online)

    confirmed = complete(tutor, online, body | {"confirm_time": True})
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["logged_minutes"] == 45
    entry = AuditEntry.objects.get(action="session.completed")
    assert entry.data["confirmed"] == "confirm_unmeasured"


def test_a_future_session_is_session_not_started(cast: Cast, tutor: Api) -> None:
    future = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() + timedelta(hours=2),
    )

    problem = assert_problem(
        complete(tutor, future, {"minutes": 55, "recap": RECAP}), 422, "session_not_started"
    )

    assert problem["detail"].startswith("This session starts on ")
    assert problem["detail"].endswith("; you can complete it from then.")
    assert datetime.fromisoformat(problem["opens_at"]) == future.scheduled_start
    assert_nothing_written(future)


GRACE_START = datetime(2030, 5, 6, 14, 0, tzinfo=UTC)
# 60 minutes long, so it ends at 15:00; the 72-hour grace period ends 72 hours later.
GRACE_DEADLINE = datetime(2030, 5, 9, 15, 0, tzinfo=UTC)


@pytest.fixture
def graced(cast: Cast) -> Session:
    return f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=GRACE_START, minutes=60
    )


def test_a_minute_before_the_grace_period_ends_completion_works(
    graced: Session, cast: Cast, api_as: ApiAs
) -> None:
    with time_machine.travel(GRACE_DEADLINE - timedelta(minutes=1), tick=False):
        # API tokens expire: this one is made when it is used, years from now.
        response = complete(api_as(cast.tutor), graced, {"minutes": 60, "recap": RECAP})

    assert response.status_code == 200, response.content
    assert response.json()["completion_deadline"] == "2030-05-09T15:00:00Z"


def test_a_minute_after_the_grace_period_is_grace_period_expired(
    graced: Session, cast: Cast, api_as: ApiAs
) -> None:
    with time_machine.travel(GRACE_DEADLINE + timedelta(minutes=1), tick=False):
        # API tokens expire: this one is made when it is used, years from now.
        response = complete(api_as(cast.tutor), graced, {"minutes": 60, "recap": RECAP})

    problem = assert_problem(response, 422, "grace_period_expired")
    assert problem["detail"].startswith(
        "Logging closed 1 minute ago: the 72-hour grace period ended on "
    )
    assert problem["detail"].endswith(". Ask Support to log this session for you.")
    assert problem["closed_at"] == GRACE_DEADLINE.isoformat()
    assert_nothing_written(graced)


def test_completing_again_is_already_completed(cast: Cast, session: Session, tutor: Api) -> None:
    complete(tutor, session, {"minutes": 55, "recap": RECAP})

    again = complete(tutor, session, {"minutes": 60, "recap": RECAP})

    problem = assert_problem(again, 409, "already_completed")
    assert problem["detail"] == "This session has already been completed (55 min logged)."
    assert Completion.objects.count() == 1
    assert Transfer.objects.count() == 1
    assert tutor_balance(cast) == 1375


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (Status.CANCELED, "This session was canceled, so there is nothing to log."),
        (Status.DECLINED, "This session was declined, so there is nothing to log."),
        (
            Status.MISSED,
            "This session was missed (no student accepted it), so it cannot be logged.",
        ),
        (
            Status.REQUESTED,
            "You have not accepted this request yet; accept it first, then complete it.",
        ),
    ],
)
def test_a_session_in_another_state_is_session_not_completable(
    cast: Cast, tutor: Api, status: str, detail: str
) -> None:
    other = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        status=status,
        start=timezone.now() - timedelta(hours=1),
    )

    problem = assert_problem(
        complete(tutor, other, {"minutes": 55, "recap": RECAP}), 409, "session_not_completable"
    )

    assert problem["detail"] == detail
    assert_nothing_written(other, status)


# -- idempotency -----------------------------------------------------------------------------


def test_the_same_idempotency_key_replays_the_first_response(
    cast: Cast, session: Session, tutor: Api
) -> None:
    first = complete(tutor, session, {"minutes": 55, "recap": RECAP}, key="7b1c2d3e-retry")
    second = complete(tutor, session, {"minutes": 55, "recap": RECAP}, key="7b1c2d3e-retry")

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert Completion.objects.get().idempotency_key == "7b1c2d3e-retry"
    assert Transfer.objects.count() == 1
    assert tutor_balance(cast) == 1375


@pytest.mark.parametrize("second_key", ["another-key", None])
def test_a_repeat_with_another_or_no_key_is_409(
    cast: Cast, session: Session, tutor: Api, second_key: str | None
) -> None:
    complete(tutor, session, {"minutes": 55, "recap": RECAP}, key="first-key")

    again = complete(tutor, session, {"minutes": 55, "recap": RECAP}, key=second_key)

    assert_problem(again, 409, "already_completed")
    assert Transfer.objects.count() == 1
    assert tutor_balance(cast) == 1375


def test_a_key_used_for_another_session_is_refused(
    cast: Cast, session: Session, tutor: Api
) -> None:
    other = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student2],
        start=timezone.now() - timedelta(hours=1),
    )
    complete(tutor, session, {"minutes": 55, "recap": RECAP}, key="shared")

    problem = assert_problem(
        complete(tutor, other, {"minutes": 55, "recap": RECAP}, key="shared"),
        409,
        "idempotency_key_reused",
    )

    assert problem["detail"] == (
        "This Idempotency-Key was already used for another session; send a new one."
    )
    other.refresh_from_db()
    assert other.status == Status.SCHEDULED
    assert Transfer.objects.count() == 1


def test_an_overlong_idempotency_key_is_refused(session: Session, tutor: Api) -> None:
    problem = assert_problem(
        complete(tutor, session, {"minutes": 55, "recap": RECAP}, key="k" * 129),
        400,
        "invalid_idempotency_key",
    )

    assert problem["detail"] == (
        "The Idempotency-Key must be printable text of at most 128 characters (a UUID works well)."
    )
    assert_nothing_written(session)


def test_a_new_time_still_open_at_completion_is_in_the_answer(
    cast: Cast, session: Session, tutor: Api
) -> None:
    """The call began before a proposed new time was answered: the completion's answer, built
    from what the lock read, still shows it (and without one, says none)."""
    later = session.scheduled_start + timedelta(days=2)
    proposal = TimeProposal.objects.create(
        session=session,
        proposed_by=cast.student,
        by_tutor=False,
        scheduled_start=later,
        planned_minutes=60,
        previous_start=session.scheduled_start,
        previous_minutes=60,
        previous_status=Status.SCHEDULED,
    )
    response = complete(tutor, session, {"minutes": 60, "recap": RECAP})
    assert response.status_code == 200, response.content
    assert response.json()["proposal"]["id"] == proposal.pk
    other = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() - timedelta(hours=1),
    )
    response = complete(tutor, other, {"minutes": 60, "recap": RECAP})
    assert response.status_code == 200, response.content
    assert response.json()["proposal"] is None
