"""Sign-up is closed by default: invited people already have an account, an organization may
let in its own email domains, and Studyhall's operators may open a public path."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.test import Client
from django.urls import reverse

from studyhall.accounts.models import User
from studyhall.core.models import AuditEntry
from studyhall.orgs.models import Member, Membership
from studyhall.testing import factories as f

FORM = {
    "name": "Nia Novak",
    "password1": "a-long-enough-passphrase",
    "password2": "a-long-enough-passphrase",
    "time_zone": "America/Chicago",
}


def sign_up(email: str) -> Any:
    return Client().post(reverse("account_signup"), {**FORM, "email": email})


def test_with_no_organization_open_to_its_domains_sign_up_is_closed(db: None) -> None:
    f.make_org(name="Invite College")  # invited people only: the default

    page = Client().get(reverse("account_signup"))
    posted = sign_up("stranger@example.test")

    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Sign-up is closed</h1>" in html
    assert "Ask your program&#x27;s admin to invite you" in html or (
        "Ask your program's admin to invite you" in html
    )
    assert "<h1>Sign-up is closed</h1>" in posted.content.decode()
    assert User.objects.count() == 0


def test_a_stranger_outside_the_owned_domains_is_told_why(db: None) -> None:
    f.make_org(name="State College", signup_policy="domains", signup_email_domains=["state.edu"])

    response = sign_up("stranger@gmail.test")

    assert response.status_code == 200
    html = response.content.decode()
    assert "No organization on Studyhall lets people at gmail.test sign up themselves." in html
    assert User.objects.count() == 0
    assert len(mail.outbox) == 0


def test_someone_at_an_owned_domain_joins_as_a_student_once_the_email_is_confirmed(
    db: None,
) -> None:
    org = f.make_org(
        name="State College", signup_policy="domains", signup_email_domains=["state.edu"]
    )
    other = f.make_org(name="Other College")

    response = sign_up("Nia@State.edu")

    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(email="nia@state.edu")
    # Not in the organization until the address is proved theirs.
    assert not Member.objects.filter(user=user).exists()
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", str(mail.outbox[0].body))
    assert link is not None
    confirmed = Client().post(link.group(1))
    assert confirmed.status_code == 302

    assert list(Member.objects.filter(user=user).values_list("organization", "status")) == [
        (org.pk, "active")
    ]
    assert list(Membership.objects.filter(user=user).values_list("organization", "role")) == [
        (org.pk, "student")
    ]
    assert not Member.objects.filter(organization=other).exists()
    entry = AuditEntry.objects.get(action="person.signed_up")
    assert (entry.actor, entry.organization_id, entry.data["roles"]) == (user, org.pk, ["student"])


def test_the_operators_public_path_lets_anyone_sign_up(db: None, settings: Any) -> None:
    settings.STUDYHALL_PUBLIC_ORGANIZATION_SIGNUP = True

    response = sign_up("founder@newcollege.test")

    assert response.status_code == 302
    user = User.objects.get(email="founder@newcollege.test")
    assert not Member.objects.filter(user=user).exists()
