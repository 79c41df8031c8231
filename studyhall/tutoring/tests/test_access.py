"""Who may see a session: 404 outside its organization, 403 inside it without a relation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from studyhall.core.errors import Forbidden, NotFound
from studyhall.orgs.models import Role
from studyhall.testing import factories as f
from studyhall.tutoring.access import access_session, is_org_admin, require_tutor
from studyhall.tutoring.models import ParticipantState, Session

if TYPE_CHECKING:
    from conftest import Cast


@pytest.fixture
def session(cast: Cast) -> Session:
    return f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])


@pytest.mark.parametrize("who", ["tutor", "student", "admin", "agent"])
def test_people_related_to_the_session_see_it(cast: Cast, session: Session, who: str) -> None:
    found = access_session(getattr(cast, who), session.pk)
    assert found == session


@pytest.mark.parametrize(
    "state", [ParticipantState.INVITED, ParticipantState.DECLINED, ParticipantState.REMOVED]
)
def test_a_participant_in_any_state_still_sees_the_session(cast: Cast, state: str) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2],
        states=[ParticipantState.ACCEPTED, state],
    )  # fmt: skip
    assert access_session(cast.student2, session.pk) == session


@pytest.mark.parametrize("who", ["other_tutor", "student2"])
def test_org_members_without_a_relation_are_forbidden(
    cast: Cast, session: Session, who: str
) -> None:
    with pytest.raises(Forbidden) as raised:
        access_session(getattr(cast, who), session.pk)
    assert raised.value.code == "forbidden"
    assert raised.value.http_status == 403
    assert raised.value.message == "You are not part of this session."


def test_an_outsider_gets_not_found(cast: Cast, session: Session) -> None:
    with pytest.raises(NotFound) as raised:
        access_session(cast.outsider, session.pk)
    assert raised.value.code == "not_found"
    assert raised.value.http_status == 404
    assert raised.value.message == "There is no such session."


def test_an_admin_of_another_organization_gets_not_found(cast: Cast, session: Session) -> None:
    other_admin = f.add_member(cast.other_org, f.make_user(), Role.ADMIN)
    with pytest.raises(NotFound):
        access_session(other_admin, session.pk)


def test_a_user_without_any_membership_gets_not_found(cast: Cast, session: Session) -> None:
    with pytest.raises(NotFound):
        access_session(f.make_user(), session.pk)


def test_an_outsider_and_a_missing_session_look_the_same(cast: Cast, session: Session) -> None:
    with pytest.raises(NotFound) as outside:
        access_session(cast.outsider, session.pk)
    with pytest.raises(NotFound) as missing:
        access_session(cast.tutor, session.pk + 1000)
    assert outside.value.message == missing.value.message


@pytest.mark.parametrize("session_id", [0, -1, "abc", "1", None, True, 1.0, 10**12])
def test_malformed_or_unknown_ids_are_not_found(cast: Cast, session_id: object) -> None:
    f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    with pytest.raises(NotFound):
        access_session(cast.agent, session_id)


def test_the_queryset_limits_what_is_found(cast: Cast, session: Session) -> None:
    with pytest.raises(NotFound):
        access_session(cast.tutor, session.pk, queryset=Session.objects.none())


def test_is_org_admin(cast: Cast, session: Session) -> None:
    assert is_org_admin(cast.admin, session)
    assert not is_org_admin(cast.tutor, session)
    assert not is_org_admin(cast.agent, session)
    assert not is_org_admin(cast.outsider, session)


def test_require_tutor(cast: Cast, session: Session) -> None:
    require_tutor(cast.tutor, session, action="remove a participant")
    for who in (cast.student, cast.admin, cast.other_tutor):
        with pytest.raises(Forbidden, match=r"^Only the session's tutor can remove a participant"):
            require_tutor(who, session, action="remove a participant")
