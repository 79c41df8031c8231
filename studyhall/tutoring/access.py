"""Who may see and act on a session.

Someone outside the session's organization gets 404 (the session does not exist for them);
a member of the organization without the right relation to the session gets 403.
"""

from __future__ import annotations

from django.db.models import QuerySet

from studyhall.accounts.models import User
from studyhall.core.errors import Forbidden, NotFound
from studyhall.core.queries import INT_KEY, KeyedRead, one_or_none
from studyhall.orgs.models import Role
from studyhall.orgs.selectors import roles_of
from studyhall.tutoring.models import Session


def session_read(queryset: QuerySet[Session] | None = None) -> KeyedRead[Session]:
    """A read of one session by id (with its organization, course and tutor) compiled once:
    for the hot paths, built at import time from a queryset without prefetches."""
    base = Session.objects.all() if queryset is None else queryset
    return KeyedRead(
        lambda pk: base.select_related("organization", "course", "tutor").filter(pk=pk),
        placeholder=INT_KEY,
    )


BY_ID = session_read()


def _find(
    session_id: object,
    queryset: QuerySet[Session] | None = None,
    read: KeyedRead[Session] | None = None,
) -> Session:
    if isinstance(session_id, bool) or not isinstance(session_id, int) or session_id <= 0:
        raise NotFound("There is no such session.")
    if queryset is not None:
        session = one_or_none(
            queryset.select_related("organization", "course", "tutor").filter(pk=session_id)
        )
    else:
        session = (read or BY_ID).one(session_id)
    if session is None:
        raise NotFound("There is no such session.")
    return session


def access_session(
    actor: User,
    session_id: object,
    *,
    queryset: QuerySet[Session] | None = None,
    read: KeyedRead[Session] | None = None,
) -> Session:
    """The session, if the actor may see it: its tutor, a participant, an admin of its
    organization, or a support agent. Read with `queryset` (evaluated here), or `read` (a
    compiled `session_read`), or plainly."""
    session = _find(session_id, queryset, read)
    if actor.is_support_agent or session.tutor_id == actor.pk:
        return session
    roles = roles_of(actor, session.organization_id)
    if not roles and not session.participants.filter(user=actor).exists():
        raise NotFound("There is no such session.")
    if Role.ADMIN in roles or session.participants.filter(user=actor).exists():
        return session
    raise Forbidden("You are not part of this session.")


def is_org_admin(actor: User, session: Session) -> bool:
    return Role.ADMIN in roles_of(actor, session.organization_id)


def require_tutor(actor: User, session: Session, *, action: str) -> None:
    if session.tutor_id != actor.pk:
        raise Forbidden(f"Only the session's tutor can {action}.")


def check_may_see_allowance(
    actor: User, *, organization_id: int, tutor_id: int, student_ids: list[int]
) -> None:
    """A booking allowance shows each student's minutes left (and who they are): a student
    sees only their own; the tutor being booked, an org admin or a support agent may ask
    about any student of the organization."""
    if set(student_ids) <= {actor.pk}:
        return
    if actor.is_support_agent or tutor_id == actor.pk:
        return
    if Role.ADMIN in roles_of(actor, organization_id):
        return
    raise Forbidden(
        "You can see only your own booking allowance; ask about other students through "
        "their tutor.",
        code="allowance_of_others",
    )
