"""Studyhall's own 404, 403 and 500 pages, with the support bubble, in the demo (DEBUG on) as
in production; Django's technical pages only when asked for."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conftest import Cast

pytestmark = pytest.mark.urls("studyhall.web.tests.error_urls")
BUBBLE = 'id="support-chat"'


@pytest.fixture(params=[True, False], ids=["demo", "production"])
def debug(request: pytest.FixtureRequest, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


def test_a_bad_id_and_a_bad_address_get_studyhalls_not_found_page(
    client: Client, cast: Cast, debug: bool
) -> None:
    client.force_login(cast.tutor)
    for url in ("/sessions/999999/", "/no-such-page/"):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 404
        assert "<h1>Not found</h1>" in html
        assert BUBBLE in html
        assert "URLconf" not in html and "urlpatterns" not in html


def test_a_failure_gets_studyhalls_error_page(client: Client, cast: Cast, debug: bool) -> None:
    client.force_login(cast.student)
    client.raise_request_exception = False
    response = client.get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in html
    assert BUBBLE in html
    assert "the database fell over" not in html and "Traceback" not in html


def test_developers_can_ask_for_the_technical_pages(
    client: Client, cast: Cast, settings: Any
) -> None:
    settings.DEBUG = True
    settings.STUDYHALL_TECHNICAL_ERRORS = True
    client.force_login(cast.tutor)
    assert "URLconf" in client.get("/no-such-page/").content.decode()


def test_every_page_has_a_favicon(client: Client, cast: Cast) -> None:
    client.force_login(cast.tutor)
    html = client.get("/sessions/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, "/static/img/favicon.svg")
    assert client.get("/static/img/favicon.svg").status_code == 200
