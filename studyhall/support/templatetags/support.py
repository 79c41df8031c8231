"""Support's hooks in the session pages: the late-logging call to action, the agent's tools
and the link to a session's history. The Sessions tab's hook costs no query unless a row's
logging has closed, and then one for the whole page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import template
from django.http import HttpRequest

from studyhall.accounts.models import User
from studyhall.support import selectors
from studyhall.support.models import (
    CorrectionProposal,
    CorrectionStatus,
    LateLogRequest,
    Message,
    RequestStatus,
)
from studyhall.tutoring import lifecycle
from studyhall.tutoring.models import Session, Status
from studyhall.tutoring.permissions import session_permissions
from studyhall.tutoring.rules import describe_span
from studyhall.tutoring.selectors import deadline_of

register = template.Library()

PENDING_CACHE = "_support_pending_late_log_session_ids"


def _closed_for(session: Session, now: datetime) -> str | None:
    """How long ago logging closed, for a session that still waits to be logged."""
    if session.status not in lifecycle.COMPLETABLE:
        return None
    deadline = deadline_of(session)
    return describe_span(now - deadline) if now > deadline else None


@dataclass(frozen=True)
class RowNote:
    closed_for: str
    pending: bool


@register.simple_tag(takes_context=True)
def late_log_row(
    context: template.Context, session: Session, viewer: User, now: datetime
) -> RowNote | None:
    """For the tutor's row of a session whose logging closed: how long ago, and whether
    Support already has the request."""
    if session.tutor_id != viewer.pk:
        return None
    closed_for = _closed_for(session, now)
    if closed_for is None:
        return None
    request: HttpRequest | None = context.get("request")
    pending = getattr(request, PENDING_CACHE, None)
    if pending is None:
        pending = selectors.pending_late_log_session_ids(viewer)
        if request is not None:
            setattr(request, PENDING_CACHE, pending)
    return RowNote(closed_for=closed_for, pending=session.pk in pending)


@dataclass(frozen=True)
class SessionSupport:
    closed_for: str | None
    # For the tutor, once logging closed: their latest request, if any.
    pending: LateLogRequest | None
    declined: LateLogRequest | None
    # For agents.
    is_agent: bool
    open_request: LateLogRequest | None
    open_correction: CorrectionProposal | None
    can_propose: bool
    show_history: bool

    @property
    def ask_support(self) -> bool:
        return self.closed_for is not None and not self.is_agent


@register.simple_tag
def session_support(session: Session, viewer: User, now: datetime) -> SessionSupport:
    may = session_permissions(viewer, session, now=now)
    is_tutor, is_agent = may.is_tutor, may.is_agent
    closed_for = _closed_for(session, now) if is_tutor or is_agent else None
    latest = None
    if closed_for is not None or is_agent:
        latest = selectors.latest_late_log_request(session)
    pending = latest if latest and latest.status == RequestStatus.PENDING else None
    declined = latest if latest and latest.status == RequestStatus.DECLINED else None
    correction = None
    if is_agent and session.status == Status.COMPLETED:
        correction = (
            CorrectionProposal.objects.filter(session=session, status=CorrectionStatus.PENDING)
            .select_related("proposed_by")
            .first()
        )
    return SessionSupport(
        closed_for=closed_for,
        pending=pending if is_tutor else None,
        declined=declined if is_tutor else None,
        is_agent=is_agent,
        open_request=pending if is_agent else None,
        open_correction=correction,
        can_propose=is_agent and session.status == Status.COMPLETED and correction is None,
        show_history=may.see_history,
    )


@register.simple_tag
def author_label(message: Message, viewer: User) -> str:
    """'You' for the viewer's own messages; agents are marked as Support."""
    if message.author_id is not None and message.author_id == viewer.pk:
        return "You"
    name = message.author_name
    return f"{name} (Support)" if message.from_agent else name
