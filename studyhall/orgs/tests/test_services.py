"""People, courses, approvals and policy: each write is scoped, validated and audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from django.db import transaction
from django.test import Client

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import (
    ApprovalStatus,
    Member,
    Membership,
    MemberStatus,
    Organization,
    Role,
    TutorCourse,
    TutorRate,
)
from studyhall.orgs.selectors import (
    enrolled_courses,
    is_approved_tutor,
    roles_of,
    tutored_courses,
    tutors_of_course,
)
from studyhall.orgs.services import courses, people, policy
from studyhall.testing import factories as f

T = TypeVar("T")


def run(fn: Callable[..., T], **kwargs: Any) -> T:
    with transaction.atomic():
        return fn(**kwargs)


def actions() -> list[str]:
    return list(AuditEntry.objects.values_list("action", flat=True))


def test_only_the_orgs_admins_reach_it(cast: Cast) -> None:
    kwargs = {"organization_id": cast.org.pk, "user_id": cast.student.pk}
    with pytest.raises(NotFound):
        run(people.deactivate_person, actor=cast.outsider, **kwargs)
    with pytest.raises(Forbidden):
        run(people.deactivate_person, actor=cast.tutor, **kwargs)
    with pytest.raises(Forbidden):
        run(people.deactivate_person, actor=cast.agent, **kwargs)
    with pytest.raises(NotFound):  # the other org's person does not exist for this admin
        run(
            people.deactivate_person,
            organization_id=cast.org.pk,
            user_id=cast.outsider.pk,
            actor=cast.admin,
        )
    assert actions() == []


def test_invite_creates_an_invited_person_without_a_password(cast: Cast) -> None:
    member = run(
        people.invite_person,
        organization_id=cast.org.pk,
        actor=cast.admin,
        email="  New.Person@College.EDU ",
        roles=["student", "tutor"],
        name="Nia New",
        school_id="S-100",
    )
    user = User.objects.get(email="new.person@college.edu")
    assert (member.status, member.school_id, user.name) == ("invited", "S-100", "Nia New")
    assert not user.has_usable_password()
    assert roles_of(user, cast.org.pk) == {"student", "tutor"}
    entry = AuditEntry.objects.get(action="person.invited")
    assert entry.data == {
        "user_id": user.pk,
        "email": "new.person@college.edu",
        "roles": ["student", "tutor"],
    }


@pytest.mark.parametrize(
    ("email", "roles", "code"),
    [
        ("not-an-email", ["student"], "invalid_email"),
        ("a@b.test", [], "no_roles"),
        ("a@b.test", ["dean"], "invalid_role"),
    ],
)
def test_invite_refuses_bad_input_and_writes_nothing(
    cast: Cast, email: str, roles: list[str], code: str
) -> None:
    users = User.objects.count()
    with pytest.raises(InvalidInput) as caught:
        run(
            people.invite_person,
            organization_id=cast.org.pk,
            actor=cast.admin,
            email=email,
            roles=roles,
        )
    assert caught.value.code == code
    assert (User.objects.count(), actions()) == (users, [])


def test_a_school_id_belongs_to_one_person(cast: Cast) -> None:
    Member.objects.filter(organization=cast.org, user=cast.student).update(school_id="S-1")
    with pytest.raises(Conflict) as caught:
        run(
            people.invite_person,
            organization_id=cast.org.pk,
            actor=cast.admin,
            email="x@y.test",
            roles=["student"],
            school_id="S-1",
        )
    assert caught.value.code == "school_id_taken"
    assert not User.objects.filter(email="x@y.test").exists()


def test_deactivated_student_cannot_sign_in_or_be_booked_and_keeps_history(cast: Cast) -> None:
    session = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    run(
        people.deactivate_person,
        organization_id=cast.org.pk,
        user_id=cast.student.pk,
        actor=cast.admin,
    )
    cast.student.refresh_from_db()
    assert cast.student.is_active is False
    assert roles_of(cast.student, cast.org.pk) == set()
    assert Membership.objects.filter(user=cast.student).count() == 1  # the role stays, inactive
    assert session.participants.filter(user=cast.student).count() == 1
    assert not Client().login(email=cast.student.email, password=f.PASSWORD)
    assert actions() == ["person.deactivated"]

    run(
        people.reactivate_person,
        organization_id=cast.org.pk,
        user_id=cast.student.pk,
        actor=cast.admin,
    )
    cast.student.refresh_from_db()
    assert cast.student.is_active is True
    assert roles_of(cast.student, cast.org.pk) == {"student"}
    assert Client().login(email=cast.student.email, password=f.PASSWORD)


def test_deactivating_a_tutor_in_one_org_keeps_them_in_another(cast: Cast) -> None:
    f.add_member(cast.other_org, cast.tutor, Role.TUTOR)
    run(
        people.deactivate_person,
        organization_id=cast.org.pk,
        user_id=cast.tutor.pk,
        actor=cast.admin,
    )
    cast.tutor.refresh_from_db()
    assert cast.tutor.is_active is True
    assert tutors_of_course(cast.course) == [cast.other_tutor]
    assert roles_of(cast.tutor, cast.other_org.pk) == {"tutor"}


def test_admins_cannot_lock_themselves_out(cast: Cast) -> None:
    with pytest.raises(RuleViolation):
        run(
            people.deactivate_person,
            organization_id=cast.org.pk,
            user_id=cast.admin.pk,
            actor=cast.admin,
        )
    with pytest.raises(RuleViolation):
        run(
            people.set_roles,
            organization_id=cast.org.pk,
            user_id=cast.admin.pk,
            actor=cast.admin,
            roles=["tutor"],
        )
    assert roles_of(cast.admin, cast.org.pk) == {"admin"}


def test_set_roles_adds_and_removes(cast: Cast) -> None:
    run(
        people.set_roles,
        organization_id=cast.org.pk,
        user_id=cast.student.pk,
        actor=cast.admin,
        roles=["tutor"],
    )
    assert roles_of(cast.student, cast.org.pk) == {"tutor"}
    entry = AuditEntry.objects.get(action="person.roles_changed")
    assert entry.data == {"user_id": cast.student.pk, "added": ["tutor"], "removed": ["student"]}


def test_rate_outside_the_policy_bounds_is_refused(cast: Cast) -> None:
    cast.org.min_hourly_rate_cents, cast.org.max_hourly_rate_cents = 1000, 4000
    cast.org.save()
    with pytest.raises(RuleViolation) as caught:
        run(
            people.set_tutor_rate,
            organization_id=cast.org.pk,
            tutor_id=cast.tutor.pk,
            actor=cast.admin,
            hourly_rate_cents=80_000,
        )
    assert caught.value.code == "rate_out_of_bounds"
    assert caught.value.message == (
        "The hourly rate must be between $10.00 and $40.00 (the organization's policy); "
        "$800.00 is outside."
    )
    with pytest.raises(RuleViolation):
        run(
            people.set_tutor_rate,
            organization_id=cast.org.pk,
            tutor_id=cast.tutor.pk,
            actor=cast.admin,
            hourly_rate_cents=999,
        )
    assert (TutorRate.objects.count(), actions()) == (0, [])

    effective = run(
        people.set_tutor_rate,
        organization_id=cast.org.pk,
        tutor_id=cast.tutor.pk,
        actor=cast.admin,
        hourly_rate_cents=4000,
    )
    assert effective == 4000
    assert AuditEntry.objects.get().data == {
        "user_id": cast.tutor.pk,
        "previous_cents": None,
        "hourly_rate_cents": 4000,
    }


@pytest.mark.parametrize(
    ("cents", "allowed"), [(999, False), (1000, True), (4000, True), (4001, False)]
)
def test_rate_bounds_are_inclusive_to_the_cent(cast: Cast, cents: int, allowed: bool) -> None:
    cast.org.min_hourly_rate_cents, cast.org.max_hourly_rate_cents = 1000, 4000
    cast.org.save()
    kwargs = {
        "organization_id": cast.org.pk,
        "tutor_id": cast.tutor.pk,
        "actor": cast.admin,
        "hourly_rate_cents": cents,
    }
    if allowed:
        assert run(people.set_tutor_rate, **kwargs) == cents
        assert list(TutorRate.objects.values_list("hourly_rate_cents", flat=True)) == [cents]
        assert actions() == ["person.rate_set"]
        return
    with pytest.raises(RuleViolation) as caught:
        run(people.set_tutor_rate, **kwargs)
    assert caught.value.code == "rate_out_of_bounds"
    assert (caught.value.extra["minimum_cents"], caught.value.extra["maximum_cents"]) == (
        1000,
        4000,
    )
    assert (TutorRate.objects.count(), actions()) == (0, [])


def test_rate_is_for_tutors_only(cast: Cast) -> None:
    with pytest.raises(RuleViolation) as caught:
        run(
            people.set_tutor_rate,
            organization_id=cast.org.pk,
            tutor_id=cast.student.pk,
            actor=cast.admin,
            hourly_rate_cents=2000,
        )
    assert caught.value.code == "not_a_tutor"


def test_tutor_applies_and_admin_approves(cast: Cast) -> None:
    course = f.make_course(cast.org, code="PHYS 101", title="Physics")
    approval = run(
        courses.apply_to_tutor, course_id=course.pk, actor=cast.tutor, note="A in PHYS 101."
    )
    assert approval.status == ApprovalStatus.UNVERIFIED
    assert not is_approved_tutor(tutor_id=cast.tutor.pk, course=course)
    with pytest.raises(Conflict):
        run(courses.apply_to_tutor, course_id=course.pk, actor=cast.tutor, note="again")

    run(
        courses.set_approval,
        organization_id=cast.org.pk,
        course_id=course.pk,
        tutor_id=cast.tutor.pk,
        actor=cast.admin,
        status="active",
    )
    assert is_approved_tutor(tutor_id=cast.tutor.pk, course=course)
    assert actions() == ["tutor_course.applied", "tutor_course.status_changed"]


def test_students_cannot_apply_and_other_orgs_courses_do_not_exist(cast: Cast) -> None:
    other_course = f.make_course(cast.other_org)
    with pytest.raises(NotFound):
        run(courses.apply_to_tutor, course_id=cast.course.pk, actor=cast.student, note="")
    with pytest.raises(NotFound):
        run(courses.apply_to_tutor, course_id=other_course.pk, actor=cast.tutor, note="")
    assert TutorCourse.objects.filter(status=ApprovalStatus.UNVERIFIED).count() == 0


def test_disabled_approval_stops_booking(cast: Cast) -> None:
    run(
        courses.set_approval,
        organization_id=cast.org.pk,
        course_id=cast.course.pk,
        tutor_id=cast.tutor.pk,
        actor=cast.admin,
        status="disabled",
        reason="Left the program",
    )
    assert tutors_of_course(cast.course) == [cast.other_tutor]


def test_course_create_edit_archive(cast: Cast) -> None:
    course = run(
        courses.create_course,
        organization_id=cast.org.pk,
        actor=cast.admin,
        code=" BIO   200 ",
        title="Cells",
    )
    assert course.code == "BIO 200"
    with pytest.raises(Conflict):
        run(
            courses.create_course,
            organization_id=cast.org.pk,
            actor=cast.admin,
            code="bio 200",
            title="Again",
        )
    run(
        courses.set_archived,
        organization_id=cast.org.pk,
        course_id=cast.course.pk,
        actor=cast.admin,
        archived=True,
    )
    # An archived course is no longer offered for booking.
    assert tutored_courses(cast.tutor) == []
    assert enrolled_courses(cast.student) == []
    assert actions() == ["course.created", "course.archived"]


def test_policy_changes_are_validated_and_audited(cast: Cast) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(
            policy.update_policy,
            organization_id=cast.org.pk,
            actor=cast.admin,
            changes={"grace_hours": 0},
        )
    assert caught.value.message == "Grace period must be between 1 and 720 hours."
    with pytest.raises(InvalidInput) as caught:
        run(
            policy.update_policy,
            organization_id=cast.org.pk,
            actor=cast.admin,
            changes={"min_hourly_rate_cents": 2000},
        )
    assert caught.value.extra["field"] == "default_hourly_rate_cents"
    with pytest.raises(InvalidInput) as caught:
        run(
            policy.update_policy,
            organization_id=cast.org.pk,
            actor=cast.admin,
            changes={
                "signup_policy": "domains",
                "signup_email_domains": "college.edu, not a domain",
            },
        )
    assert caught.value.extra["field"] == "signup_email_domains"
    assert actions() == []

    changed = run(
        policy.update_policy,
        organization_id=cast.org.pk,
        actor=cast.admin,
        changes={
            "grace_hours": 48,
            "min_recap_chars": 150,
            "signup_policy": "domains",
            "signup_email_domains": "College.edu @cc.college.edu",
        },
    )
    assert changed == {
        "grace_hours": (72, 48),
        "signup_policy": ("invited", "domains"),
        "signup_email_domains": ([], ["college.edu", "cc.college.edu"]),
    }
    org = Organization.objects.get(pk=cast.org.pk)
    assert (org.grace_hours, org.signup_email_domains) == (48, ["college.edu", "cc.college.edu"])
    assert AuditEntry.objects.get().data["changes"]["grace_hours"] == {"before": 72, "after": 48}


def test_invited_person_becomes_active_on_first_sign_in(cast: Cast) -> None:
    run(
        people.invite_person,
        organization_id=cast.org.pk,
        actor=cast.admin,
        email="nia@example.test",
        roles=["student"],
    )
    user = User.objects.get(email="nia@example.test")
    user.set_password(f.PASSWORD)
    user.save()
    assert Client().login(email=user.email, password=f.PASSWORD)
    assert Member.objects.get(user=user).status == MemberStatus.ACTIVE
