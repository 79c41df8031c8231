"""Emails about sessions, sent only after the transaction that changed the session commits.

Callbacks take ids and read what was committed; `robust` keeps a mail-server hiccup from
turning a committed change into an error page.
"""

from __future__ import annotations

from django.db import transaction

from studyhall.accounts.models import User
from studyhall.notifications.emails import send_templated
from studyhall.tutoring.models import ParticipantState, Session

EVENT_SUBJECTS = {
    "invited": "You're invited to a tutoring session",
    "requested": "A student requested a tutoring session",
    "accepted": "A tutoring session was accepted",
    "declined": "A tutoring session was declined",
    "canceled": "A tutoring session was canceled",
    "removed": "You were removed from a tutoring session",
}


def after_commit_send_recap(*, session_id: int) -> None:
    def send_recap() -> None:
        send_recap_to_students(session_id)

    transaction.on_commit(send_recap, robust=True)


def after_commit_session_event(
    *, session_id: int, event: str, actor_id: int, only_user_id: int | None = None
) -> None:
    def send_event() -> None:
        send_session_event(session_id, event, actor_id, only_user_id=only_user_id)

    transaction.on_commit(send_event, robust=True)


def send_recap_to_students(session_id: int) -> int:
    """The recap goes to each student who took part (everyone still accepted)."""
    session = (
        Session.objects.select_related("course", "tutor", "organization", "completion")
        .filter(pk=session_id)
        .first()
    )
    if session is None or not hasattr(session, "completion"):
        return 0
    students = [
        p.user
        for p in session.participants.select_related("user").filter(state=ParticipantState.ACCEPTED)
    ]
    return send_templated(
        to=students,
        subject=f"Recap of your {session.course.code} session with {session.tutor}",
        template="tutoring/email/recap",
        context={"session": session, "completion": session.completion},
    )


def send_session_event(
    session_id: int, event: str, actor_id: int, *, only_user_id: int | None = None
) -> int:
    """Tell the people on the session, but not the one who acted, what happened.

    Students who declined or were removed hear no more about it; `only_user_id` narrows the
    message to one person (the student who was removed).
    """
    session = (
        Session.objects.select_related("course", "tutor", "organization")
        .filter(pk=session_id)
        .first()
    )
    if session is None or event not in EVENT_SUBJECTS:
        return 0
    participants = session.participants.select_related("user")
    if only_user_id is not None:
        people = [p.user for p in participants.filter(user_id=only_user_id)]
    else:
        people = [session.tutor] + [
            p.user
            for p in participants.filter(
                state__in=(ParticipantState.INVITED, ParticipantState.ACCEPTED)
            )
        ]
    actor = User.objects.filter(pk=actor_id).first()
    return send_templated(
        to=[u for u in people if u.pk != actor_id],
        subject=EVENT_SUBJECTS[event],
        template="tutoring/email/session_event",
        context={"session": session, "event": event, "actor": actor},
    )
