"""The pages of confirmations and disputes: the student's question on the session page, the
tutor's Transaction history with each earning's state, and Support's disputes with both
parties' words side by side."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from conftest import Cast
from studyhall.ledger.payouts import build_batch
from studyhall.testing import factories as f
from studyhall.testing.html import untimed
from studyhall.tutoring.models import Confirmation, EarningHold, Session
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.confirmations import confirm_session, dispute_session

START = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def frozen() -> object:
    with time_machine.travel(START + timedelta(hours=2), tick=False) as traveller:
        yield traveller


def completed(cast: Cast) -> Session:
    cast.org.confirmations_required = True
    cast.org.save()
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2], start=START
    )
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    return session


def disputed(cast: Cast) -> Session:
    session = completed(cast)
    confirm_session(session_id=session.pk, actor=cast.student)
    dispute_session(
        session_id=session.pk,
        actor=cast.student2,
        kind="shorter",
        shorter_by_minutes=20,
        reason="We stopped at 40 minutes.",
    )
    return session


def test_the_student_is_asked_on_the_session_page(
    client: Client, cast: Cast, frozen: object
) -> None:
    session = completed(cast)
    client.force_login(cast.student)
    html = client.get(f"/sessions/{session.pk}/").content.decode()
    assert "Did this session happen as logged?" in html
    assert 'id="confirm-button"' in html
    response = client.post(f"/sessions/{session.pk}/confirm/")
    assert response.status_code == 302
    assert Confirmation.objects.get(student=cast.student).answer == "confirmed"
    html = client.get(f"/sessions/{session.pk}/").content.decode()
    assert 'id="confirm-button"' not in html
    assert "Your answer: Confirmed." in html


def test_a_refused_dispute_is_shown_on_its_field(
    client: Client, cast: Cast, frozen: object
) -> None:
    session = completed(cast)
    client.force_login(cast.student2)
    response = client.post(
        f"/sessions/{session.pk}/dispute/",
        {"kind": "shorter", "shorter_by_minutes": "60", "reason": "Short."},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="shorter-error"' in html and "Say how many minutes shorter it was" in html
    assert Confirmation.objects.get(student=cast.student2).answer == "pending"
    response = client.post(
        f"/sessions/{session.pk}/dispute/",
        {"kind": "shorter", "shorter_by_minutes": "20", "reason": "We stopped at 40 minutes."},
    )
    assert response.status_code == 302
    assert Confirmation.objects.get(student=cast.student2).shorter_by_minutes == 20


def test_the_tutors_history_shows_each_earnings_state(
    client: Client, cast: Cast, frozen: object
) -> None:
    session = completed(cast)
    client.force_login(cast.tutor)
    html = client.get("/earnings/transactions/").content.decode()
    assert "Pending confirmation" in html and "Paid out once confirmed" in html
    confirm_session(session_id=session.pk, actor=cast.student)
    dispute_session(
        session_id=session.pk,
        actor=cast.student2,
        kind="shorter",
        shorter_by_minutes=20,
        reason="We stopped at 40 minutes.",
    )
    with time_machine.travel(datetime(2025, 3, 12, tzinfo=UTC), tick=False):
        [payout] = build_batch(
            organization_id=cast.org.pk, week_start=date(2025, 3, 3), actor=None
        ).payouts
    assert payout.amount_cents == 1000
    html = client.get("/earnings/transactions/").content.decode()
    assert "Held for a dispute: $5.00" in html
    assert f"In payout #{payout.pk}, Fri Mar 21" in untimed(html)


def test_support_sees_both_sides_and_upholds(client: Client, cast: Cast, frozen: object) -> None:
    session = disputed(cast)
    client.force_login(cast.agent)
    html = client.get("/support/disputes/").content.decode()
    assert f'href="/support/disputes/{session.pk}/"' in html and "$5.00" in html
    html = client.get(f"/support/disputes/{session.pk}/").content.decode()
    assert "The tutor: Tess Tutor" in html
    assert "Sam Lee</dt>" in html and "It was shorter by 20 min: We stopped at 40 minutes." in html
    assert (
        f'href="/support/sessions/{session.pk}/corrections/new/?kind=adjust_minutes&amp;minutes=40"'
        in html
    )
    response = client.post(f"/support/disputes/{session.pk}/uphold/", {"note": "Log is right."})
    assert response.status_code == 302
    hold = EarningHold.objects.get(session=session)
    assert (hold.state, hold.resolution, hold.resolution_note) == (
        "released",
        "upheld",
        "Log is right.",
    )


def test_only_support_reaches_the_disputes(client: Client, cast: Cast, frozen: object) -> None:
    session = disputed(cast)
    urls = ["/support/disputes/", f"/support/disputes/{session.pk}/"]
    for who in (cast.tutor, cast.student, cast.admin):
        client.force_login(who)
        assert [client.get(u).status_code for u in urls] == [403, 403]
        assert client.post(f"/support/disputes/{session.pk}/uphold/").status_code == 403
    client.logout()
    assert [client.get(u).status_code for u in urls] == [302, 302]
    client.force_login(cast.agent)
    assert client.get("/support/disputes/999999/").status_code == 404
    assert EarningHold.objects.get(session=session).state == "disputed"


def test_the_student_rates_from_the_session_page_once_confirmed(
    client: Client, cast: Cast, frozen: object
) -> None:
    session = completed(cast)
    client.force_login(cast.student)
    assert 'id="rate-session"' not in client.get(f"/sessions/{session.pk}/").content.decode()
    client.post(f"/sessions/{session.pk}/confirm/")
    html = client.get(f"/sessions/{session.pk}/").content.decode()
    assert "Rate this session" in html
    client.post(f"/sessions/{session.pk}/rate/", {"stars": "5", "review": "Clear and patient."})
    assert 'id="rate-session"' not in client.get(f"/sessions/{session.pk}/").content.decode()
    client.force_login(cast.tutor)
    html = client.get(f"/sessions/{session.pk}/").content.decode()
    assert "How did your students engage?" in html
