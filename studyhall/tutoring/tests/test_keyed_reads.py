"""The hot paths' reads compiled once read what their querysets read: the same fields, the
same related objects and the same annotations (here, against the queryset run as Django
runs it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.db import transaction

from studyhall.accounts import tokens
from studyhall.accounts.models import ApiToken
from studyhall.core.queries import one_or_none
from studyhall.testing import factories as f
from studyhall.tutoring import access
from studyhall.tutoring.models import Participant, Session
from studyhall.tutoring.services import completion
from studyhall.tutoring.services.completion import complete_session

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = pytest.mark.postgres

RELATED = ("organization", "course", "tutor", "program")
ANNOTATED = ("rate_cents", "program_account_id", "tutor_account_id", "open_proposal")


def fields(instance: Any) -> dict[str, Any]:
    return {k: v for k, v in instance.__dict__.items() if k != "_state"}


def _sessions(cast: Cast) -> list[int]:
    """A session whose tutor has earned before (the accounts exist, a rate is set) and one
    of a tutor who never has."""
    f.set_rate(cast.org, cast.tutor, 2100)
    paid = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    complete_session(session_id=paid.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP)
    again = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2])
    fresh = f.make_session(org=cast.org, tutor=cast.other_tutor, students=[cast.student])
    return [again.pk, fresh.pk]


def test_the_locked_read_is_the_lock_querys(cast: Cast) -> None:
    for pk in _sessions(cast):
        with transaction.atomic():
            got = completion._LOCKED.one(pk)
            expected = one_or_none(
                completion._lock_query()
                .select_related("organization", "course", "tutor")
                .filter(pk=pk)
            )
        assert got is not None and expected is not None
        assert fields(got) == fields(expected)
        for name in RELATED:
            assert fields(getattr(got, name)) == fields(getattr(expected, name))
        for name in ANNOTATED:
            assert got.__dict__[name] == expected.__dict__[name]
    assert got.__dict__["rate_cents"] == cast.org.default_hourly_rate_cents


def test_the_read_by_id_is_the_sessions_with_their_relations(cast: Cast) -> None:
    for pk in _sessions(cast):
        got = access.BY_ID.one(pk)
        expected = one_or_none(
            Session.objects.select_related("organization", "course", "tutor").filter(pk=pk)
        )
        assert got is not None and expected is not None
        assert fields(got) == fields(expected)
        for name in ("organization", "course", "tutor"):
            assert fields(getattr(got, name)) == fields(getattr(expected, name))
    assert access.BY_ID.one(max(_sessions(cast)) + 1000) is None


def test_the_participants_are_the_sessions_in_order(cast: Cast) -> None:
    pk = _sessions(cast)[0]
    got = completion._PARTICIPANTS.all(pk)
    expected = list(Participant.objects.select_related("user").filter(session_id=pk))
    assert [fields(p) for p in got] == [fields(p) for p in expected]
    assert [fields(p.user) for p in got] == [fields(p.user) for p in expected]
    assert [p.user.email for p in got] == ["maya@example.test", "sam@example.test"]


def test_the_token_read_is_the_tokens_with_its_user(cast: Cast) -> None:
    issued = tokens.issue_token(request=None, email=cast.tutor.email, password=f.PASSWORD)
    tokens.token_for(issued)  # marks it used
    row = tokens.token_for(issued)
    expected = one_or_none(ApiToken.objects.select_related("user").filter(digest=row.digest))
    assert expected is not None
    assert fields(row) == fields(expected) and fields(row.user) == fields(expected.user)
    assert row.user == cast.tutor
