"""Places on a lower app's pages where higher apps add what they own.

A page never loads a higher app's template tags or includes its templates (the app order in
docs/architecture.md forbids it). It renders a slot instead — `{% load panels %}{% panels
"session_row" %}` — and each higher app registers, in its AppConfig.ready, the template it
adds there. The template is rendered in the page's own context, as `{% include %}` would
render it, so it sees the same variables (`session`, `user`, `now`, ...) and costs the same
queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Slot(StrEnum):
    # The session page, top to bottom.
    SESSION_AFTER_FACTS = "session_after_facts"
    SESSION_CLASSROOM = "session_classroom"
    SESSION_AFTER_COMPLETION = "session_after_completion"
    # The end of each row on the Sessions tab.
    SESSION_ROW = "session_row"
    # Every page: inside <head>, and at the end of <body>.
    CHROME_HEAD = "chrome_head"
    CHROME_BODY_END = "chrome_body_end"
    # Sections of the Settings page, after its own.
    SETTINGS = "settings"
    # Sections of the console's page about one person, after its own cards.
    CONSOLE_PERSON = "console_person"


@dataclass(frozen=True)
class Panel:
    template: str
    order: int


_registry: dict[Slot, list[Panel]] = {slot: [] for slot in Slot}


def register(slot: Slot, template: str, *, order: int = 100) -> None:
    """Add `template` to `slot`; panels render by `order`, then by template name. Registering
    the same template again changes nothing (AppConfig.ready can run more than once)."""
    panels = _registry[Slot(slot)]
    if any(panel.template == template for panel in panels):
        return
    panels.append(Panel(template=template, order=order))
    panels.sort(key=lambda panel: (panel.order, panel.template))


def unregister(slot: Slot, template: str) -> None:
    _registry[Slot(slot)][:] = [p for p in _registry[Slot(slot)] if p.template != template]


def panels_in(slot: Slot) -> tuple[Panel, ...]:
    return tuple(_registry[Slot(slot)])
