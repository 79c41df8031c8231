"""The sign-in page answers 429 with Retry-After once an account or an address has failed too
often, whatever the password; the owner signs in once the window has passed."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from studyhall.testing import factories as f

if TYPE_CHECKING:
    from conftest import Cast


def sign_in(client: Client, email: str, password: str, address: str = "203.0.113.7") -> Any:
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=address
    )


def test_fifty_wrong_passwords_get_429_and_the_owner_signs_in_after_the_window(
    cast: Cast,
) -> None:
    attacker = Client()
    responses = [sign_in(attacker, cast.tutor.email, f"guess-{i}") for i in range(50)]

    assert [r.status_code for r in responses] == [200] * 5 + [429] * 45
    assert "The email address and/or password you specified are not correct." in (
        responses[0].content.decode()
    )
    # The account's limit (5 failures in 5 minutes) answers first; from the 31st request a
    # minute allauth's limit on every sign-in from one address answers too.
    assert [r.get("Retry-After") for r in responses] == [None] * 5 + ["300"] * 25 + ["60"] * 20
    limited = responses[5]
    html = limited.content.decode()
    assert '<div class="alert alert--error" role="alert">Too many failed sign-in attempts' in html
    assert "Try again in 5 minutes." in html

    owner = Client()
    # The right password is turned away too while the limit holds: guessing learns nothing.
    assert sign_in(owner, cast.tutor.email, f.PASSWORD).status_code == 429
    assert "_auth_user_id" not in owner.session

    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        signed_in = sign_in(owner, cast.tutor.email, f.PASSWORD)
        assert signed_in.status_code == 302
        assert owner.session["_auth_user_id"] == str(cast.tutor.pk)


def test_an_address_failing_on_many_accounts_is_limited(cast: Cast) -> None:
    client = Client()
    statuses = [sign_in(client, f"nobody{i}@example.test", "wrong").status_code for i in range(11)]

    assert statuses == [200] * 10 + [429]
    elsewhere = Client()
    assert sign_in(elsewhere, cast.tutor.email, f.PASSWORD, "198.51.100.9").status_code == 302
