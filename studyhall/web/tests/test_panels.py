"""Panels: a higher app's template rendered where a lower app's page leaves a slot, in the
page's own context, in a fixed order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.template import Context, Engine, TemplateSyntaxError

from studyhall.web import panels
from studyhall.web.panels import Slot

ENGINE = Engine(
    libraries={"panels": "studyhall.web.templatetags.panels"},
    loaders=[
        (
            "django.template.loaders.locmem.Loader",
            {
                "a.html": "<a>{{ who }}</a>",
                "b.html": "<b>{{ who }}</b>",
                "c.html": "<c>{{ who|upper }}</c>",
            },
        )
    ],
)


@pytest.fixture
def row_slot() -> Iterator[Slot]:
    """The session-row slot, emptied for the test and restored after it."""
    before = panels.panels_in(Slot.SESSION_ROW)
    for panel in before:
        panels.unregister(Slot.SESSION_ROW, panel.template)
    yield Slot.SESSION_ROW
    for panel in panels.panels_in(Slot.SESSION_ROW):
        panels.unregister(Slot.SESSION_ROW, panel.template)
    for panel in before:
        panels.register(Slot.SESSION_ROW, panel.template, order=panel.order)


def render(text: str, **context: object) -> str:
    return ENGINE.from_string(text).render(Context(context))


def test_registered_panels_render_in_the_pages_context_by_order(row_slot: Slot) -> None:
    panels.register(row_slot, "b.html")
    panels.register(row_slot, "c.html", order=10)
    panels.register(row_slot, "a.html")
    html = render('{% load panels %}[{% panels "session_row" %}]', who="Maya & Sam")
    assert html == "[<c>MAYA &amp; SAM</c><a>Maya &amp; Sam</a><b>Maya &amp; Sam</b>]"


def test_registering_twice_renders_once(row_slot: Slot) -> None:
    panels.register(row_slot, "a.html")
    panels.register(row_slot, "a.html", order=1)
    assert [p.template for p in panels.panels_in(row_slot)] == ["a.html"]
    assert render('{% load panels %}{% panels "session_row" %}', who="x") == "<a>x</a>"


def test_an_empty_slot_renders_nothing(row_slot: Slot) -> None:
    assert render('{% load panels %}[{% panels "session_row" %}]') == "[]"


def test_an_unknown_slot_is_a_template_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="No panel slot is called 'nowhere'"):
        render('{% load panels %}{% panels "nowhere" %}')


def test_the_apps_register_their_panels_at_start() -> None:
    registered = {slot: [p.template for p in panels.panels_in(slot)] for slot in Slot}
    assert registered == {
        Slot.SESSION_AFTER_FACTS: [
            "calendars/_add_to_calendar.html",
            "console/_session_absence_link.html",
        ],
        Slot.SESSION_CLASSROOM: ["calls/_session_classroom.html"],
        Slot.SESSION_AFTER_COMPLETION: ["support/_session_support.html"],
        Slot.SESSION_ROW: ["support/_session_row.html"],
        Slot.CHROME_HEAD: ["support/_head.html"],
        Slot.CHROME_BODY_END: ["support/_bubble.html"],
        Slot.SETTINGS: ["calendars/_settings_section.html"],
        Slot.CONSOLE_PERSON: ["identity/_console_person_erase.html"],
    }
