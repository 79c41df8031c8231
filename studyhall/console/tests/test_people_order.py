"""The People list reads an organization's members in name order from an index (the members'
copies of their names, orgs.sorting); every way a name or email changes keeps the copies."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.test import Client

from conftest import Cast
from studyhall.console.services.roster import apply_roster, check_roster
from studyhall.identity import erasure
from studyhall.orgs.models import Member, Role
from studyhall.orgs.sorting import refresh_sort_keys
from studyhall.testing import factories as f


def listed(cast: Cast) -> list[str]:
    client = Client()
    client.force_login(cast.admin)
    page = client.get(f"/console/{cast.org.pk}/people/")
    assert page.status_code == 200
    return [m.user.email for m in page.context["page"].object_list]


def keys(user: Any) -> set[tuple[str, str]]:
    return set(Member.objects.filter(user=user).values_list("sort_name", "sort_email"))


def test_a_new_member_takes_its_users_name_and_email(cast: Cast) -> None:
    assert keys(cast.student) == {("Maya Chen", "maya@example.test")}
    assert listed(cast) == [
        "admin@example.test",
        "maya@example.test",
        "otto@example.test",
        "sam@example.test",
        "tutor@example.test",
    ]


def test_a_rename_moves_the_person_in_every_organization(cast: Cast) -> None:
    f.add_member(cast.other_org, cast.student, Role.STUDENT)
    cast.student.name = "Zelda Chen"
    cast.student.save(update_fields=["name"])

    assert keys(cast.student) == {("Zelda Chen", "maya@example.test")}
    assert listed(cast)[-1] == "maya@example.test"


def test_a_save_that_changes_no_name_writes_no_member(
    cast: Cast, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        cast.student.save(update_fields=["time_zone"])
    with django_assert_num_queries(2):
        cast.student.save()


def test_a_roster_import_keeps_the_names_it_adds_and_changes(cast: Cast) -> None:
    Member.objects.filter(user=cast.student).update(school_id="S-1")
    text = (
        "school_id,email,name,roles,enrolled_courses,tutor_courses,status\n"
        "S-1,maya@example.test,Amaya Chen,student,,,active\n"
        "S-2,bea@example.test,Bea Brook,student,,,active\n"
    )
    with transaction.atomic():
        roster = check_roster(
            organization_id=cast.org.pk,
            actor=cast.admin,
            filename="r.csv",
            data=text.encode(),
        )
    with transaction.atomic():
        apply_roster(organization_id=cast.org.pk, import_id=roster.pk, actor=cast.admin)

    assert keys(cast.student) == {("Amaya Chen", "maya@example.test")}
    bea = Member.objects.get(organization=cast.org, user__email="bea@example.test")
    assert (bea.sort_name, bea.sort_email) == ("Bea Brook", "bea@example.test")
    assert listed(cast)[:3] == ["admin@example.test", "maya@example.test", "bea@example.test"]


def test_an_erased_person_is_listed_under_the_placeholder(cast: Cast) -> None:
    with transaction.atomic():
        erasure.erase_person(actor=cast.admin, user_id=cast.student.pk)

    assert keys(cast.student) == {("Erased person", f"erased-{cast.student.pk}@erased.invalid")}


def test_refreshing_copies_what_bulk_writes_skipped(cast: Cast) -> None:
    Member.objects.filter(organization=cast.org).update(sort_name="", sort_email="")

    assert refresh_sort_keys(organization_id=cast.org.pk) == 5
    assert keys(cast.tutor) == {("Tess Tutor", "tutor@example.test")}
    assert refresh_sort_keys(user_ids=[]) == 0
