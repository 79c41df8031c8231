"""What each viewer may do on a session, as one table over roles and session states."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from conftest import Cast
from studyhall.core.errors import Forbidden
from studyhall.testing.factories import make_session
from studyhall.tutoring import selectors
from studyhall.tutoring.models import Mode, Origin, ParticipantState, Session, Status
from studyhall.tutoring.permissions import session_permissions

FLAGS = (
    "accept",
    "decline",
    "cancel",
    "cancel_withdraws",
    "remove",
    "completes",
    "log",
    "propose_time",
    "report_missed",
    "join_call",
    "see_earnings",
    "see_history",
)
ACC, INV = ParticipantState.ACCEPTED, ParticipantState.INVITED
STAFF = "see_earnings see_history"
AGENT_OPEN = f"cancel remove completes log {STAFF}"

# scene: (status, hours from now to the start, the students' states, origin)
SCENES: dict[str, tuple[str, int, list[str], str]] = {
    "requested": (Status.REQUESTED, 24, [ACC], Origin.REQUEST),
    "invited": (Status.INVITED, 24, [INV], Origin.INVITATION),
    "scheduled": (Status.SCHEDULED, 24, [ACC], Origin.INVITATION),
    "started": (Status.SCHEDULED, -1, [ACC], Origin.INVITATION),
    "in_progress": (Status.IN_PROGRESS, -1, [ACC], Origin.INVITATION),
    "completed": (Status.COMPLETED, -2, [ACC], Origin.INVITATION),
    "canceled": (Status.CANCELED, 24, [ACC], Origin.INVITATION),
    "group": (Status.SCHEDULED, 24, [ACC, ACC], Origin.INVITATION),
}

# (scene, role) -> what that role may do; everything not named is refused.
TABLE: dict[tuple[str, str], str] = {
    ("requested", "tutor"): f"accept decline cancel remove completes log propose_time "
    f"join_call {STAFF}",
    ("requested", "student"): "cancel propose_time join_call",
    ("requested", "admin"): f"cancel {STAFF}",
    ("requested", "agent"): AGENT_OPEN,
    ("invited", "tutor"): f"cancel remove completes log propose_time join_call {STAFF}",
    ("invited", "student"): "accept decline cancel propose_time",
    ("invited", "admin"): f"cancel {STAFF}",
    ("invited", "agent"): AGENT_OPEN,
    ("scheduled", "tutor"): f"cancel remove completes log propose_time join_call {STAFF}",
    ("scheduled", "student"): "cancel propose_time join_call",
    ("scheduled", "admin"): f"cancel {STAFF}",
    ("scheduled", "agent"): AGENT_OPEN,
    ("started", "tutor"): f"cancel remove completes log report_missed join_call {STAFF}",
    ("started", "student"): "cancel join_call",
    ("started", "admin"): f"cancel {STAFF}",
    ("started", "agent"): f"{AGENT_OPEN} report_missed",
    ("in_progress", "tutor"): f"remove completes log join_call {STAFF}",
    ("in_progress", "student"): "join_call",
    ("in_progress", "admin"): STAFF,
    ("in_progress", "agent"): f"remove completes log {STAFF}",
    ("completed", "tutor"): f"completes join_call {STAFF}",
    ("completed", "student"): "join_call",
    ("completed", "admin"): STAFF,
    ("completed", "agent"): f"completes {STAFF}",
    ("canceled", "tutor"): f"completes join_call {STAFF}",
    ("canceled", "student"): "join_call",
    ("canceled", "admin"): STAFF,
    ("canceled", "agent"): f"completes {STAFF}",
    ("group", "tutor"): f"cancel remove completes log propose_time join_call {STAFF}",
    ("group", "student"): "cancel cancel_withdraws join_call",
    ("group", "admin"): f"cancel {STAFF}",
    ("group", "agent"): AGENT_OPEN,
}
ROLES = ("tutor", "student", "admin", "agent", "bystander")


def _scene(cast: Cast, name: str) -> Session:
    status, hours, states, origin = SCENES[name]
    students = [cast.student, cast.student2][: len(states)]
    made = make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=students,
        start=timezone.now() + timedelta(hours=hours),
        mode=Mode.ONLINE,
        states=states,
        status=status,
        origin=origin,
    )
    return selectors.with_details(Session.objects.all()).get(pk=made.pk)


def _viewer(cast: Cast, role: str, scene: str) -> Any:
    if role == "bystander":
        # A student of the organization who is not on the session (in the group scene
        # student2 is on it, so another tutor stands by instead).
        return cast.other_tutor if scene == "group" else cast.student2
    return getattr(cast, role)


@pytest.mark.parametrize("scene", SCENES)
@pytest.mark.parametrize("role", ROLES)
def test_what_each_role_may_do_in_each_state(cast: Cast, scene: str, role: str) -> None:
    session = _scene(cast, scene)
    may = session_permissions(_viewer(cast, role, scene), session)
    allowed = {flag for flag in FLAGS if getattr(may, flag)}
    assert allowed == set(TABLE.get((scene, role), "").split())


def test_with_the_admins_organizations_known_no_query_is_needed(
    cast: Cast, django_assert_num_queries: Any
) -> None:
    session = _scene(cast, "completed")
    with django_assert_num_queries(0):
        as_admin = session_permissions(cast.admin, session, admin_org_ids={cast.org.pk})
        as_outsider = session_permissions(cast.student, session, admin_org_ids=set())
        assert (as_admin.see_earnings, as_outsider.see_earnings) == (True, False)


def test_the_tutor_and_agents_need_no_query_and_others_one(
    cast: Cast, django_assert_num_queries: Any
) -> None:
    session = _scene(cast, "scheduled")
    with django_assert_num_queries(0):
        assert session_permissions(cast.tutor, session).see_history is True
        assert session_permissions(cast.agent, session).see_history is True
    with django_assert_num_queries(1):
        assert session_permissions(cast.admin, session).see_history is True


def test_only_the_tutor_or_support_may_complete(cast: Cast) -> None:
    session = _scene(cast, "started")
    assert session_permissions(cast.tutor, session).completion_refusal() is None
    assert session_permissions(cast.agent, session).completion_refusal() is None
    for viewer in (cast.student, cast.admin, cast.other_tutor):
        refusal = session_permissions(viewer, session).completion_refusal()
        assert isinstance(refusal, Forbidden)
        assert (refusal.code, refusal.message) == (
            "forbidden",
            "Only the session's tutor can complete it.",
        )
