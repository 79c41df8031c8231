"""A small organization's worth of history at fixed moments, shared by the export, feed and
report tests: a group session with a no-show, a request answered after 90 minutes, a canceled
session, and a payroll payout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import time_machine

from studyhall.ledger.models import Payout
from studyhall.ledger.payouts import build_batch
from studyhall.orgs.models import Member, Membership, Role
from studyhall.testing import factories as f
from studyhall.tutoring.models import Mode, Session
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.scheduling import (
    accept_session,
    cancel_session,
    create_session,
)

# Monday, March 2, 2026, 10:00 in New York (EST).
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
RECAP = {
    "topics_covered": "Stoichiometry:   mole ratios and limiting reagents, two worked problems.",
    "tutee_progress": "Maya balanced every equation herself and found the limiting reagent.",
    "next_steps": "Problems 4.12 to 4.20 before Thursday's quiz.",
}


@dataclass
class Scene:
    group: Session
    request: Session
    canceled: Session
    payout: Payout


def build_scene(cast: Any) -> Scene:
    cast.tutor.time_zone = "America/Chicago"
    cast.tutor.save(update_fields=["time_zone"])
    cast.org.payout_provider = "payroll"
    cast.org.save(update_fields=["payout_provider"])
    _school_id(cast, cast.student, "S-1001")
    _school_id(cast, cast.student2, "S-1002")
    _school_id(cast, cast.tutor, "T-2001")
    Membership.objects.filter(user=cast.tutor, role=Role.TUTOR).update(employee_id="E-7")

    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        group = f.make_session(
            org=cast.org,
            tutor=cast.tutor,
            students=[cast.student, cast.student2],
            start=T0,
            minutes=60,
            location="Library room 2",
        )
    # Completed 70 minutes after the start, 55 minutes logged; Sam never came.
    with time_machine.travel(T0 + timedelta(minutes=70), tick=False):
        complete_session(
            session_id=group.pk,
            actor=cast.tutor,
            minutes=55,
            recap=RECAP,
            no_show_user_ids=[cast.student2.pk],
        )

    asked = T0 + timedelta(days=1)  # Tuesday 10:00 New York
    with time_machine.travel(asked, tick=False):
        request = create_session(
            actor=cast.student,
            organization_id=cast.org.pk,
            course_id=cast.course.pk,
            mode=Mode.ONLINE,
            scheduled_start=asked + timedelta(days=1),
            planned_minutes=30,
            tutor_id=cast.tutor.pk,
        )
    with time_machine.travel(asked + timedelta(minutes=90), tick=False):
        accept_session(session_id=request.pk, actor=cast.tutor)

    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        canceled = f.make_session(
            org=cast.org,
            tutor=cast.tutor,
            students=[cast.student2],
            start=T0 + timedelta(days=3),
            minutes=45,
        )
        cancel_session(session_id=canceled.pk, actor=cast.tutor, reason="Tutor is ill")

    # The week of March 2 is paid through payroll on its payout date.
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        result = build_batch(organization_id=cast.org.pk, week_start=date(2026, 3, 2), actor=None)
    for model in (group, request, canceled):
        model.refresh_from_db()
    return Scene(group=group, request=request, canceled=canceled, payout=result.payouts[0])


def _school_id(cast: Any, user: Any, value: str) -> None:
    Member.objects.update_or_create(organization=cast.org, user=user, defaults={"school_id": value})
