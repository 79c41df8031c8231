"""The demo `make run` seeds is a consistent program: its ledger proves out like any other."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from studyhall.accounts.models import User
from studyhall.tutoring.management.commands.seed_demo import DEMO_PASSWORD, PEOPLE
from studyhall.tutoring.models import Completion


@pytest.mark.django_db
def test_the_seeded_demo_passes_the_ledger_check() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    flagged = Completion.objects.get(overlogged=True)
    assert (flagged.minutes, flagged.measured_seconds) == (90, 20 * 60)
    assert flagged.earning.entries.get(amount_cents__gt=0).amount_cents == (
        flagged.hourly_rate_cents * 90 // 60
    )
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert out.getvalue().startswith("Ledger OK:")


@pytest.mark.django_db
def test_every_demo_person_signs_in_with_the_demo_password() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    people = User.objects.filter(email__in=[email for email, *_ in PEOPLE])
    assert people.count() == len(PEOPLE) == 5
    # The one password is hashed once for everyone.
    assert len({person.password for person in people}) == 1
    for person in people:
        assert person.has_usable_password()
        assert person.check_password(DEMO_PASSWORD)
        assert not person.check_password(DEMO_PASSWORD + "x")
