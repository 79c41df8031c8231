"""What a committed change tells people is enqueued with the change and runs at least once:
a rolled-back change enqueues nothing, and a task run twice tells nobody twice."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from studyhall.core.errors import RuleViolation
from studyhall.notifications.models import EmailPreference, Kind, Notification
from studyhall.testing import factories as f
from studyhall.testing.tasks import queued_task_paths, run_queued_tasks
from studyhall.tutoring.models import Session
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.scheduling import cancel_session

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = pytest.mark.postgres

RECAP_TASK = "studyhall.tutoring.services.notify.send_recap"
EVENT_TASK = "studyhall.tutoring.services.notify.send_event"


@pytest.fixture
def session(cast: Cast) -> Session:
    return f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2])


def test_the_recap_is_enqueued_with_the_completion_and_sent_once(
    cast: Cast, session: Session
) -> None:
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    # Nothing is sent from the request: the task waits in the queue, committed with it.
    assert mail.outbox == []
    assert queued_task_paths() == [RECAP_TASK]
    assert run_queued_tasks() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["maya@example.test", "sam@example.test"]
    # A worker that died before recording the task's result runs it again: nobody hears twice.
    assert run_queued_tasks(again=True) == 1
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(kind=Kind.RECAP).count() == 2
    cast.student.refresh_from_db()
    assert cast.student.unread_notifications == 1


def test_a_refused_completion_enqueues_nothing(cast: Cast, session: Session) -> None:
    with pytest.raises(RuleViolation):
        complete_session(
            session_id=session.pk, actor=cast.tutor, minutes=60, recap={"topics_covered": "x"}
        )
    assert queued_task_paths() == []


def test_a_rolled_back_transaction_enqueues_nothing(cast: Cast, session: Session) -> None:
    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
        assert queued_task_paths() == [RECAP_TASK]
        raise Undo
    assert queued_task_paths() == []
    assert run_queued_tasks() == 0
    assert mail.outbox == []


def test_an_email_interrupted_mid_run_is_sent_by_the_rerun(cast: Cast, session: Session) -> None:
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    run_queued_tasks()
    # As if the run had died after Maya's email and before Sam's.
    Notification.objects.filter(user=cast.student2).update(email_settled_at=None)
    mail.outbox.clear()
    run_queued_tasks(again=True)
    assert [m.to for m in mail.outbox] == [["sam@example.test"]]


def test_a_recap_respects_email_preferences_once(cast: Cast, session: Session) -> None:
    EmailPreference.objects.create(user=cast.student2, kind=Kind.RECAP, by_email=False)
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    run_queued_tasks()
    run_queued_tasks(again=True)
    assert [m.to for m in mail.outbox] == [["maya@example.test"]]
    assert Notification.objects.filter(user=cast.student2, kind=Kind.RECAP).count() == 1


def test_session_events_are_tasks_too(cast: Cast, session: Session) -> None:
    future = f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=timezone.now() + timedelta(days=2),
    )
    cancel_session(session_id=future.pk, actor=cast.tutor, reason="I am ill.")
    assert mail.outbox == []
    assert queued_task_paths() == [EVENT_TASK]
    run_queued_tasks()
    run_queued_tasks(again=True)
    assert [m.to for m in mail.outbox] == [["maya@example.test"]]
    assert Notification.objects.filter(user=cast.student, event="canceled").count() == 1
