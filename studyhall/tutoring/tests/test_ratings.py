"""Ratings: a student rates a session after confirming it, the tutor may rate the students'
engagement (admins only see it), the tutor sees the average and reviews without authors, a
low rating lands in the console's Needs attention list, an admin hides a review with an
audited reason, and no rating changes pay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from conftest import Cast
from studyhall.core.errors import Conflict, Forbidden, InvalidInput
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import Account
from studyhall.testing import factories as f
from studyhall.tutoring.models import Rating, Session
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.confirmations import confirm_session
from studyhall.tutoring.services.ratings import hide_review, rate_session

START = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> object:
    with time_machine.travel(START + timedelta(hours=2), tick=False) as traveller:
        yield traveller


def completed(cast: Cast, *, asking: bool = True) -> Session:
    cast.org.confirmations_required = asking
    cast.org.save()
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2], start=START
    )
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=60, recap=f.GOOD_RECAP)
    return session


def held_and_earned(cast: Cast) -> list[tuple[str, int]]:
    return sorted(Account.objects.filter(user=cast.tutor).values_list("kind", "balance_cents"))


def test_a_student_rates_after_confirming(cast: Cast) -> None:
    session = completed(cast)
    with pytest.raises(Conflict) as first:
        rate_session(session_id=session.pk, actor=cast.student, stars=5)
    assert first.value.code == "confirm_first"
    confirm_session(session_id=session.pk, actor=cast.student)
    before = held_and_earned(cast)
    rating = rate_session(session_id=session.pk, actor=cast.student, stars=1, review="Late.")
    assert (rating.stars, rating.review, rating.by_tutor) == (1, "Late.", False)
    assert held_and_earned(cast) == before  # a low rating never changes pay
    with pytest.raises(Conflict) as again:
        rate_session(session_id=session.pk, actor=cast.student, stars=4)
    assert again.value.code == "already_rated"


@pytest.mark.parametrize("stars", [0, 6, True, "5", None])
def test_stars_are_1_to_5(cast: Cast, stars: object) -> None:
    session = completed(cast, asking=False)
    with pytest.raises(InvalidInput) as refused:
        rate_session(session_id=session.pk, actor=cast.student, stars=stars)
    assert refused.value.code == "invalid_stars"
    assert not Rating.objects.exists()


def test_the_tutor_sees_the_average_and_reviews_but_not_who(client: Client, cast: Cast) -> None:
    session = completed(cast, asking=False)
    rate_session(session_id=session.pk, actor=cast.student, stars=5, review="Very clear.")
    rate_session(session_id=session.pk, actor=cast.student2, stars=2, review="Too fast.")
    rate_session(session_id=session.pk, actor=cast.tutor, stars=1)  # engagement: admins only
    client.force_login(cast.tutor)
    html = client.get("/sessions/ratings/").content.decode()
    assert "<strong>3.5</strong> out of 5, from 2 ratings." in html
    assert "<li>Too fast.</li><li>Very clear.</li>" in html
    assert "Maya" not in html and "Sam" not in html


def test_low_ratings_need_attention_and_an_admin_hides_a_review(client: Client, cast: Cast) -> None:
    session = completed(cast, asking=False)
    rating = rate_session(session_id=session.pk, actor=cast.student2, stars=2, review="Rude!")
    rate_session(session_id=session.pk, actor=cast.tutor, stars=1)
    client.force_login(cast.admin)
    html = client.get(f"/console/{cast.org.pk}/").content.decode()
    section = html[html.index('id="low-ratings"') :].split("</section>")[0]
    assert "Ratings of 2 stars or fewer (2)" in section
    assert "1/5 by Tess Tutor (the tutor, about the students)" in section
    assert "2/5 by Sam Lee about Tess Tutor — “Rude!”" in section

    with pytest.raises(Forbidden):
        hide_review(rating_id=rating.pk, actor=cast.tutor, reason="I dislike it.")
    with pytest.raises(InvalidInput):
        hide_review(rating_id=rating.pk, actor=cast.admin, reason=" ")
    hide_review(rating_id=rating.pk, actor=cast.admin, reason="Reported as abusive.")
    entry = AuditEntry.objects.get(action="session.review_hidden")
    assert entry.data["reason"] == "Reported as abusive."
    client.force_login(cast.tutor)
    assert "Rude!" not in client.get("/sessions/ratings/").content.decode()
