"""Who may reach identity's console pages, walked from its URLconf so a new page cannot be
forgotten: an admin of another organization gets 404, a tutor, a student or a support agent
403, the organization's admin the page, and someone signed out the sign-in page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from conftest import Cast
from studyhall.console.tests.conftest import signed_in
from studyhall.identity import console_urls
from studyhall.orgs.models import Role
from studyhall.testing import factories as f

PAGES = [p for p in console_urls.urlpatterns if isinstance(p, URLPattern)]


def test_the_matrix_covers_every_identity_console_url() -> None:
    assert [p.name for p in PAGES] == ["privacy", "single_sign_on"]


@pytest.mark.parametrize("pattern", PAGES, ids=lambda p: p.name)
def test_identity_console_url_access(cast: Cast, pattern: URLPattern) -> None:
    other_admin = f.add_member(cast.other_org, f.make_user(), Role.ADMIN)
    url = reverse(f"identity_console:{pattern.name}", kwargs={"org_id": cast.org.pk})
    assert signed_in(other_admin).get(url).status_code == 404
    for member in (cast.tutor, cast.student, cast.agent):
        assert signed_in(member).get(url).status_code == 403, member
    assert signed_in(cast.admin).get(url).status_code == 200
    assert signed_in(cast.admin).post(url, {}).status_code == 400  # the form's own answer
    assert Client().get(url).status_code == 302


def test_the_person_page_offers_to_erase_them(cast: Cast) -> None:
    client = signed_in(cast.admin)
    page = client.get(
        reverse("console:person", kwargs={"org_id": cast.org.pk, "user_id": cast.student.pk})
    ).content.decode()
    erase = reverse("identity:erase_person", kwargs={"user_id": cast.student.pk})
    assert f'href="{erase}">Erase this person</a>' in page
    assert client.get(erase).status_code == 200
    own = client.get(
        reverse("console:person", kwargs={"org_id": cast.org.pk, "user_id": cast.admin.pk})
    ).content.decode()
    assert "Erase this person" not in own
