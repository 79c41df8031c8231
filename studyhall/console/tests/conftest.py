"""An admin of each organization, and the ids every console URL takes, for both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.console.models import RosterImport
from studyhall.console.services.roster import check_roster
from studyhall.orgs.models import Program, Role
from studyhall.testing import factories as f

ROSTER = (
    b"school_id,email,name,roles,enrolled_courses,tutor_courses,status\n"
    b"S-1,new1@example.test,Nia New,student,CHEM 110,,\n"
)


@dataclass
class Console:
    other_admin: User
    ids: dict[str, int]  # URL argument → an object of cast.org
    other_ids: dict[str, int]  # the same for cast.other_org


def _roster(org_id: int, actor: User) -> RosterImport:
    with transaction.atomic():
        return check_roster(organization_id=org_id, actor=actor, filename="r.csv", data=ROSTER)


@pytest.fixture
def console(cast: Cast) -> Console:
    other_admin = f.add_member(
        cast.other_org, f.make_user(email="oadmin@example.test", name="Otis Admin"), Role.ADMIN
    )
    other_course = f.make_course(cast.other_org, code="BIO 1")
    soon = timezone.now() + timedelta(days=1)
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=soon)
    other_session = f.make_session(
        org=cast.other_org, tutor=cast.outsider, students=[], course=other_course, start=soon
    )
    return Console(
        other_admin=other_admin,
        ids={
            "org_id": cast.org.pk,
            "user_id": cast.tutor.pk,
            "course_id": cast.course.pk,
            "import_id": _roster(cast.org.pk, cast.admin).pk,
            "program_id": Program.objects.get(organization=cast.org, is_default=True).pk,
            "session_id": session.pk,
        },
        other_ids={
            "org_id": cast.other_org.pk,
            "user_id": cast.outsider.pk,
            "course_id": other_course.pk,
            "import_id": _roster(cast.other_org.pk, other_admin).pk,
            "program_id": Program.objects.get(organization=cast.other_org, is_default=True).pk,
            "session_id": other_session.pk,
        },
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
