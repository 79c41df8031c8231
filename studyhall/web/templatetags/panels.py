"""`{% panels "slot" %}`: what the higher apps registered for this place on the page."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from studyhall.web.panels import Slot, panels_in

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context: template.Context, slot: str) -> SafeString:
    try:
        place = Slot(slot)
    except ValueError as exc:
        raise template.TemplateSyntaxError(f"No panel slot is called {slot!r}.") from exc
    assert context.template is not None  # a tag only runs while a template renders
    engine = context.template.engine
    html = SafeString("")
    for panel in panels_in(place):
        # As {% include %} does: in the page's own context, so the panel sees what it sees.
        html += engine.get_template(panel.template).render(context)
    return html
