"""Recaps worth reading: a near-copy of the tutor's own recent recap is refused (or flagged,
by policy), filler is refused, and a genuinely different recap on the same topic passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from conftest import Cast
from studyhall.core.errors import RuleViolation
from studyhall.ledger.models import Transfer
from studyhall.testing import factories as f
from studyhall.tutoring.models import Completion, Session, Status
from studyhall.tutoring.recaps import similarity
from studyhall.tutoring.services.completion import complete_session

START = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)

FIRST = {
    "topics_covered": "Limiting reagents and percent yield, with three worked stoichiometry "
    "problems from last year's midterm.",
    "tutee_progress": "Maya balanced every equation herself and caught her own unit mistake.",
    "next_steps": "Finish the practice set in chapter 4 before Thursday's lab.",
}
# The same recap with small edits: a day, a number, case and punctuation.
NEAR_COPY = {
    "topics_covered": "Limiting reagents and percent yield with three worked stoichiometry "
    "problems from last year's midterm!",
    "tutee_progress": "Maya balanced every equation herself and caught her own unit mistake.",
    "next_steps": "finish the practice set in chapter 4 before Friday's lab.",
}
# The same topic, written afresh.
SAME_TOPIC = {
    "topics_covered": "Percent yield again: we compared theoretical and actual yield on the "
    "copper lab data and found where the lost mass went.",
    "tutee_progress": "She now sets up the mole ratio first without prompting, but rushes "
    "the significant figures.",
    "next_steps": "Redo lab questions 5 to 8 and bring the graph for the yield discussion.",
}


@pytest.fixture
def refusing(cast: Cast) -> Cast:
    cast.org.recap_check = "refuse"
    cast.org.save()
    return cast


def complete(cast: Cast, recap: dict[str, str], *, day: int) -> Session:
    start = START + timedelta(days=day)
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=start)
    with time_machine.travel(start + timedelta(minutes=70), tick=False):
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=55, recap=recap)
    return session


def whole(recap: dict[str, str]) -> str:
    return " ".join(recap.values())


def test_the_pairs_score_as_they_should() -> None:
    assert similarity(whole(FIRST), whole(NEAR_COPY)) >= 0.9
    assert similarity(whole(FIRST), whole(SAME_TOPIC)) < 0.2


def test_a_near_copy_is_refused_and_nothing_is_written(refusing: Cast) -> None:
    complete(refusing, FIRST, day=0)
    with pytest.raises(RuleViolation) as refused:
        complete(refusing, NEAR_COPY, day=7)
    assert refused.value.code == "recap_near_duplicate"
    assert refused.value.message.startswith("This recap is 9")
    assert "the same as the one you wrote on Mar 4" in refused.value.message
    assert Completion.objects.count() == 1 and Transfer.objects.count() == 1
    assert Session.objects.filter(status=Status.COMPLETED).count() == 1


def test_a_different_recap_on_the_same_topic_passes(refusing: Cast) -> None:
    complete(refusing, FIRST, day=0)
    complete(refusing, SAME_TOPIC, day=7)
    assert Completion.objects.count() == 2


def test_only_the_last_90_days_count(refusing: Cast) -> None:
    complete(refusing, FIRST, day=0)
    complete(refusing, NEAR_COPY, day=91)
    assert Completion.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"next_steps": "Next week we go on. " + "." * 150}, "recap_filler"),
        ({"tutee_progress": "a" * 160}, "recap_filler"),
        ({"tutee_progress": FIRST["topics_covered"]}, "recap_repeated_prompt"),
    ],
)
def test_filler_is_refused(refusing: Cast, change: dict[str, str], code: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        complete(refusing, {**FIRST, **change}, day=0)
    assert refused.value.code == code
    # The field to fix is the one changed: the filler, or the answer that repeats another.
    assert refused.value.extra == {"field": next(iter(change))}
    assert not Completion.objects.exists()


def test_flag_only_accepts_and_lists_it_for_the_admin(client: Client, cast: Cast) -> None:
    cast.org.recap_check = "flag"
    cast.org.save()
    complete(cast, FIRST, day=0)
    session = complete(cast, NEAR_COPY, day=7)
    flag = Completion.objects.get(session=session).recap_flag
    assert flag.startswith("This recap is 9") and "Mar 4" in flag
    client.force_login(cast.admin)
    html = client.get(f"/console/{cast.org.pk}/").content.decode()
    section = html[html.index('id="flagged-recaps"') :].split("</section>")[0]
    assert "Flagged recaps (1)" in section
    assert f'href="/sessions/{session.pk}/"' in section
