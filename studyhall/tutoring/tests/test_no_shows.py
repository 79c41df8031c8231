"""Marking accepted students who never came, as part of completing the session."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from conftest import Cast
from studyhall.core.errors import InvalidInput, RuleViolation
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import Transfer
from studyhall.testing import factories as f
from studyhall.testing.factories import GOOD_RECAP
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring.models import Completion, ParticipantState, Session, Status
from studyhall.tutoring.services.completion import complete_session

pytestmark = pytest.mark.postgres


@pytest.fixture
def group(cast: Cast) -> Session:
    return f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2])


def states(session: Session) -> dict[int, tuple[str, bool]]:
    return {p.user_id: (p.state, p.no_show) for p in session.participants.all()}


def test_a_student_who_never_came_is_taken_off_and_gets_no_recap(
    cast: Cast, group: Session, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        complete_session(
            session_id=group.pk,
            actor=cast.tutor,
            minutes=55,
            recap=GOOD_RECAP,
            no_show_user_ids=[cast.student2.pk],
        )
    run_queued_tasks()
    assert states(group) == {
        cast.student.pk: (ParticipantState.ACCEPTED, False),
        cast.student2.pk: (ParticipantState.REMOVED, True),
    }
    group.refresh_from_db()
    assert group.status == Status.COMPLETED
    assert [m.to for m in mail.outbox if m.subject.startswith("Recap")] == [["maya@example.test"]]
    entry = AuditEntry.objects.get(action="session.completed")
    assert entry.data["no_show_user_ids"] == [cast.student2.pk]


def test_everyone_a_no_show_leaves_nobody_to_log_it_for(cast: Cast, group: Session) -> None:
    with pytest.raises(RuleViolation) as refused:
        complete_session(
            session_id=group.pk,
            actor=cast.tutor,
            minutes=55,
            recap=GOOD_RECAP,
            no_show_user_ids=[cast.student.pk, cast.student2.pk],
        )
    assert refused.value.code == "no_participants"
    # The refusal wrote nothing: both are still on the session, nobody is paid.
    assert states(group) == {
        cast.student.pk: (ParticipantState.ACCEPTED, False),
        cast.student2.pk: (ParticipantState.ACCEPTED, False),
    }
    assert (Completion.objects.count(), Transfer.objects.count()) == (0, 0)


@pytest.mark.parametrize("who", ["outsider", "tutor", "invited"])
def test_only_accepted_students_can_be_no_shows(cast: Cast, who: str) -> None:
    session = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student, cast.student2],
        states=[ParticipantState.ACCEPTED, ParticipantState.INVITED],
    )
    user_id = {"outsider": cast.outsider.pk, "tutor": cast.tutor.pk, "invited": cast.student2.pk}
    with pytest.raises(InvalidInput) as refused:
        complete_session(
            session_id=session.pk,
            actor=cast.tutor,
            minutes=55,
            recap=GOOD_RECAP,
            no_show_user_ids=[user_id[who]],
        )
    assert refused.value.code == "invalid_no_show"
    assert (Completion.objects.count(), Transfer.objects.count()) == (0, 0)


def test_the_form_offers_each_accepted_student_as_a_no_show(
    client: Client, cast: Cast, group: Session
) -> None:
    client.force_login(cast.tutor)
    url = reverse("tutoring:complete", args=[group.pk])
    page = client.get(url).content.decode()
    assert "Did not come" in page and "Sam Lee" in page
    response = client.post(
        url,
        {
            "minutes": "55",
            "no_shows": [str(cast.student2.pk)],
            "idempotency_key": "k1",
            **GOOD_RECAP,
        },
    )
    assert response.status_code == 302
    assert states(group)[cast.student2.pk] == (ParticipantState.REMOVED, True)


def test_the_api_takes_no_shows(client: Client, cast: Cast, group: Session) -> None:
    client.force_login(cast.tutor)
    response = client.post(
        f"/api/v1/sessions/{group.pk}/complete",
        {"minutes": 55, "recap": GOOD_RECAP, "no_shows": [cast.student2.pk]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    states_by_id = {p["user"]["id"]: p["state"] for p in response.json()["participants"]}
    assert states_by_id == {cast.student.pk: "accepted", cast.student2.pk: "removed"}
