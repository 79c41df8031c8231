"""Correction reasons are internal: Support and the org's admins see them, on the session page
and in its history; its students and its tutor never do. Recaps reach only the session's
people."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.test import Client

from studyhall.testing import factories as f
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.corrections import adjust_completion_minutes

if TYPE_CHECKING:
    from conftest import Cast
    from studyhall.accounts.models import User

REASON = "Internal: the timesheet showed 45 minutes"


def page_for(user: User, session_id: int) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = client.get(f"/sessions/{session_id}/")
    return response.status_code, response.content.decode()


def test_correction_reasons_are_hidden_from_students_and_tutors(cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    with transaction.atomic():
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
        adjust_completion_minutes(
            session_id=session.pk, actor=cast.agent, minutes=45, reason=REASON, idempotency_key="k"
        )

    status, student_page = page_for(cast.student, session.pk)
    assert status == 200
    assert f.GOOD_RECAP["topics_covered"] in student_page
    assert REASON not in student_page
    assert "Sue Support" not in student_page
    status, tutor_page = page_for(cast.tutor, session.pk)
    assert status == 200
    assert "Corrected" in tutor_page or "corrected" in tutor_page
    assert REASON not in tutor_page
    assert "Sue Support" not in tutor_page
    for who in (cast.agent, cast.admin):
        status, html = page_for(who, session.pk)
        assert status == 200
        assert REASON in html, who


def test_the_session_history_keeps_correction_reasons_from_the_tutor(cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    with transaction.atomic():
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
        adjust_completion_minutes(
            session_id=session.pk, actor=cast.agent, minutes=45, reason=REASON, idempotency_key="k"
        )
    history = f"/support/sessions/{session.pk}/history/"
    for who, sees in ((cast.tutor, False), (cast.admin, True), (cast.agent, True)):
        client = Client()
        client.force_login(who)
        response = client.get(history)
        assert response.status_code == 200, who
        html = response.content.decode()
        assert "Changed the paid time from 1 h to 45 min" in html, who
        assert (REASON in html) is sees, who


def test_the_recap_is_not_shown_to_people_outside_the_session(cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    with transaction.atomic():
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)

    # Members of the organization are refused (403); anyone else finds nothing (404).
    for outsider, refused in ((cast.student2, 403), (cast.other_tutor, 403), (cast.outsider, 404)):
        status, html = page_for(outsider, session.pk)
        assert status == refused, outsider
        assert f.GOOD_RECAP["topics_covered"] not in html
