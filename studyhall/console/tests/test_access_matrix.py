"""Who may reach every console URL, walked from the URLconf so a new page cannot be
forgotten: an admin of another organization gets 404, a tutor, a student or a support agent
403, and the organization's admin the page itself."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.console import urls
from studyhall.console.tests.conftest import Console, signed_in

ORG_URLS = [p for p in urls.urlpatterns if isinstance(p, URLPattern) and p.name != "index"]


def _url(pattern: URLPattern, ids: dict[str, int]) -> str:
    names = list(pattern.pattern.converters)
    missing = [n for n in names if n not in ids]
    assert not missing, f"Give the access matrix an id for {missing} (console:{pattern.name})"
    return reverse(f"console:{pattern.name}", kwargs={n: ids[n] for n in names})


def _try(client: Client, url: str) -> Any:
    """GET, or POST (empty) where the page only takes POST."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    return response


def test_the_matrix_covers_every_console_url() -> None:
    assert len(ORG_URLS) == len(urls.urlpatterns) - 1
    assert len(ORG_URLS) >= 19


@pytest.mark.parametrize("pattern", ORG_URLS, ids=lambda p: p.name)
def test_console_url_access(cast: Cast, console: Console, pattern: URLPattern) -> None:
    url = _url(pattern, console.ids)
    assert _try(signed_in(console.other_admin), url).status_code == 404
    for member in (cast.tutor, cast.student, cast.agent):
        response = _try(signed_in(member), url)
        assert response.status_code == 403, (member, response.status_code)
    response = signed_in(cast.admin).get(url)
    if response.status_code == 405:
        # A form's target: the admin is let through to the form's own answer.
        response = signed_in(cast.admin).post(url, {})
        assert response.status_code in (302, 400), response.status_code
    else:
        assert response.status_code == 200
    assert _try(Client(), url).status_code == 302  # signed out: to the sign-in page


@pytest.mark.parametrize(
    "pattern",
    [p for p in ORG_URLS if set(p.pattern.converters) - {"org_id"}],
    ids=lambda p: p.name,
)
def test_another_orgs_objects_do_not_exist(
    cast: Cast, console: Console, pattern: URLPattern
) -> None:
    """The admin's own organization in the URL, another organization's object in it."""
    for name in set(pattern.pattern.converters) - {"org_id"}:
        ids = {**console.ids, name: console.other_ids[name]}
        assert _try(signed_in(cast.admin), _url(pattern, ids)).status_code == 404, name


def test_index_sends_each_admin_to_their_own_console(cast: Cast, console: Console) -> None:
    index = reverse("console:index")
    assert signed_in(cast.admin).get(index)["Location"] == f"/console/{cast.org.pk}/"
    other = signed_in(console.other_admin)
    assert other.get(index)["Location"] == f"/console/{cast.other_org.pk}/"
    assert other.get(index, {"org": cast.org.pk}).status_code == 404
    for member in (cast.tutor, cast.student, cast.agent):
        assert signed_in(member).get(index).status_code == 403


def test_sign_in_lands_the_admin_on_the_console(cast: Cast) -> None:
    def landing(user: User) -> str:
        return str(signed_in(user).get("/")["Location"])

    assert landing(cast.admin) == "/console/"
    assert landing(cast.tutor) == "/sessions/"
    assert landing(cast.agent) == "/support/sessions/"
