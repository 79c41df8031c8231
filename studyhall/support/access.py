"""Who may do what in Support.

Agents (Studyhall staff, `User.is_support_agent`) work the inbox and act on anyone's sessions;
everyone else only ever reaches their own conversation and their own requests. A session's
history follows the house rule for sessions: outside its organization it does not exist (404),
inside it only its tutor and the organization's admins (and agents) may read it (403).
"""

from __future__ import annotations

from studyhall.accounts.models import User
from studyhall.core.errors import Forbidden
from studyhall.tutoring.access import access_session
from studyhall.tutoring.models import Session
from studyhall.tutoring.permissions import session_permissions

AGENTS_ONLY = "Only Studyhall support agents can {action}."


def require_agent(actor: User, *, action: str) -> None:
    if not actor.is_support_agent:
        raise Forbidden(AGENTS_ONLY.format(action=action), code="agents_only")


def may_view_history(actor: User, session: Session) -> bool:
    """Support, the session's tutor, and the admins of its organization."""
    return session_permissions(actor, session).see_history


def access_history(actor: User, session_id: object) -> Session:
    session = access_session(actor, session_id)
    if not may_view_history(actor, session):
        raise Forbidden(
            "A session's history is for its tutor, the organization's admins and Support."
        )
    return session
