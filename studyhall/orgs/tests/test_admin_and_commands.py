"""The Django admin is for superusers only; create_org makes an org with its first admin."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.orgs.models import Member, Organization, TutorRate
from studyhall.orgs.selectors import roles_of
from studyhall.testing import factories as f


def test_the_django_admin_refuses_org_admins_and_staff(cast: Cast) -> None:
    staff = f.make_user(email="staff@example.test", is_staff=True)
    for user in (cast.admin, staff, cast.agent):
        client = Client()
        client.force_login(user)
        assert client.get("/admin/").status_code == 302  # to the admin's sign-in
    operator = User.objects.create_superuser("root@example.test", f.PASSWORD)
    client = Client()
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200


def test_the_django_admin_refuses_a_rate_outside_the_policy(cast: Cast) -> None:
    rate = TutorRate(organization=cast.org, tutor=cast.tutor, hourly_rate_cents=80_000)
    with pytest.raises(ValidationError) as caught:
        rate.full_clean()
    assert caught.value.message_dict == {
        "hourly_rate_cents": ["Must be between 100 and 10000 cents (the policy of Test College)."]
    }


def test_create_org_names_its_first_admin(db: None) -> None:
    call_command("create_org", "Riverside College", admin_email="Dean@Riverside.EDU")
    org = Organization.objects.get(slug="riverside-college")
    dean = User.objects.get(email="dean@riverside.edu")
    assert roles_of(dean, org.pk) == {"admin"}
    assert Member.objects.get(organization=org).status == "invited"
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_org", "Riverside College", admin_email="x@y.test")
    with pytest.raises(CommandError, match="is not an email address"):
        call_command("create_org", "Hill College", admin_email="nope")
    assert Organization.objects.count() == 1
