"""The booking parts of the session page, as inclusion tags so the page only places them: a
proposed new time with its answers (near the top, `part="proposal"`), and "Propose a new
time" and "Nobody came" (with the other actions, `part="actions"`)."""

from __future__ import annotations

from typing import Any

from django import template

from studyhall.accounts.models import User
from studyhall.tutoring import booking_selectors
from studyhall.tutoring.models import ON_SESSION, ParticipantState, Session
from studyhall.tutoring.permissions import session_permissions
from studyhall.tutoring.text import names

register = template.Library()


@register.inclusion_tag("tutoring/booking/_session_panel.html", takes_context=True)
def booking_panel(
    context: template.Context, session: Session, viewer: User, part: str = "proposal"
) -> dict[str, Any]:
    """Pass a session whose participants are prefetched (`selectors.with_details`)."""
    may = session_permissions(viewer, session)
    on_session = [p for p in may.participants if p.state in ON_SESSION]
    view = booking_selectors.proposal_for(session, viewer)
    waiting_for = ""
    if view is not None:
        if view.proposal.by_tutor:
            invited = [p.user for p in on_session if p.state == ParticipantState.INVITED]
            waiting_for = names(invited) if invited else "the students"
        else:
            waiting_for = "you" if may.is_tutor else session.tutor.display_name
    return {
        "csrf_token": context.get("csrf_token"),
        "part": part,
        "session": session,
        "proposal": view.proposal if view else None,
        "mine": view.mine if view else False,
        "awaits_me": view.awaits_me if view else False,
        "waiting_for": waiting_for,
        "can_propose": may.propose_time,
        "can_report_missed": may.report_missed,
    }


@register.simple_tag
def new_time_awaits(session: Session, viewer: User) -> bool:
    """Whether a proposed new time waits for `viewer`'s answer (the page then offers that
    answer instead of accepting or declining the session)."""
    view = booking_selectors.proposal_for(session, viewer)
    return view is not None and view.awaits_me
