"""What a viewer may do on a session: the one answer for pages, template tags, the API and the
services.

Each flag is worked out on first use, so asking for one costs only what that one needs: the
viewer's own roles and participation come from the session (participants prefetched by
`selectors.with_details`), and whether they administer its organization is one query, asked
only when being its tutor or a support agent does not already decide.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import cached_property

from django.utils import timezone

from studyhall.accounts.models import User
from studyhall.core.errors import Forbidden
from studyhall.tutoring import lifecycle
from studyhall.tutoring.access import is_org_admin
from studyhall.tutoring.models import (
    ON_SESSION,
    OPEN_STATUSES,
    Participant,
    ParticipantState,
    Session,
    Status,
)
from studyhall.tutoring.rules import completable_from, completion_deadline

ONLY_THE_TUTOR_COMPLETES = "Only the session's tutor can complete it."


class SessionPermissions:
    def __init__(
        self,
        viewer: User,
        session: Session,
        *,
        now: datetime | None = None,
        admin_org_ids: Collection[int] | None = None,
    ) -> None:
        self.viewer = viewer
        self.session = session
        self._now = now
        self._admin_org_ids = admin_org_ids

    # -- who the viewer is on this session ----------------------------------------------------

    @cached_property
    def now(self) -> datetime:
        return self._now or timezone.now()

    @cached_property
    def is_tutor(self) -> bool:
        return self.session.tutor_id == self.viewer.pk

    @cached_property
    def is_agent(self) -> bool:
        return self.viewer.is_support_agent

    @cached_property
    def is_admin(self) -> bool:
        """An admin of the session's organization who is neither its tutor nor an agent."""
        if self.is_tutor or self.is_agent:
            return False
        if self._admin_org_ids is not None:
            return self.session.organization_id in self._admin_org_ids
        return is_org_admin(self.viewer, self.session)

    @cached_property
    def participants(self) -> list[Participant]:
        return list(self.session.participants.all())

    @cached_property
    def mine(self) -> Participant | None:
        return next((p for p in self.participants if p.user_id == self.viewer.pk), None)

    @cached_property
    def on_session(self) -> bool:
        """The viewer is a student still on the session (invited or accepted)."""
        return self.mine is not None and self.mine.state in ON_SESSION

    @cached_property
    def answering(self) -> bool:
        """The viewer is invited and has not answered yet."""
        return self.mine is not None and self.mine.state == ParticipantState.INVITED

    @cached_property
    def _pending(self) -> bool:
        return self.session.status in lifecycle.PENDING

    @cached_property
    def _ended(self) -> bool:
        return self.session.status in lifecycle.TERMINAL

    @cached_property
    def _started(self) -> bool:
        opens = completable_from(
            scheduled_start=self.session.scheduled_start,
            call_started_at=self.session.call_started_at,
        )
        return opens <= self.now

    # -- what the viewer may do ---------------------------------------------------------------

    @cached_property
    def accept(self) -> bool:
        requested = self.session.status == Status.REQUESTED
        return (self.is_tutor and requested) or (self.answering and not self._ended)

    @cached_property
    def decline(self) -> bool:
        requested = self.session.status == Status.REQUESTED
        return (self.is_tutor and requested) or (self.answering and self._pending)

    @cached_property
    def cancel(self) -> bool:
        staff = self.is_tutor or self.is_agent or self.is_admin
        return self._pending and (staff or self.on_session)

    @cached_property
    def cancel_withdraws(self) -> bool:
        """Cancelling only takes the viewer off: a student in a group leaves, the others'
        session goes on."""
        others_on = any(
            p.state in ON_SESSION and p.user_id != self.viewer.pk for p in self.participants
        )
        return self.cancel and not (self.is_tutor or self.is_agent or self.is_admin) and others_on

    @cached_property
    def remove(self) -> bool:
        return (self.is_tutor or self.is_agent) and not self._ended

    @cached_property
    def completes(self) -> bool:
        """Whoever may log the session at all: its tutor, or Support on the tutor's behalf.
        Whether its state allows it now is the completion rules' question."""
        return self.is_tutor or self.is_agent

    @cached_property
    def log(self) -> bool:
        """The page offers logging (the form, or why not yet)."""
        return self.completes and not self._ended

    @cached_property
    def propose_time(self) -> bool:
        # A student moves only a one-to-one session; in a group the tutor does.
        on = [p for p in self.participants if p.state in ON_SESSION]
        may_move = self.is_tutor or (self.on_session and len(on) == 1)
        return self._pending and not self._started and may_move

    @cached_property
    def report_missed(self) -> bool:
        return (
            (self.is_tutor or self.is_agent)
            and self._started
            and self.session.status in (Status.INVITED, Status.SCHEDULED)
        )

    @cached_property
    def report_tutor_absent(self) -> bool:
        """An accepted student of an in-person session may say the tutor did not come, from
        its start until logging closes (the service also refuses a second report)."""
        accepted = self.mine is not None and self.mine.state == ParticipantState.ACCEPTED
        if not accepted or self.is_tutor or self.session.is_online:
            return False
        if self.session.status not in OPEN_STATUSES or not self._started:
            return False
        closes = completion_deadline(
            scheduled_end=self.session.scheduled_end,
            call_ended_at=self.session.call_ended_at,
            grace_hours=self.session.organization.grace_hours,
            classroom_closes_at=self.session.classroom_closes_at,
        )
        return self.now <= closes

    @cached_property
    def join_call(self) -> bool:
        """The tutor and accepted students of an online session go into its classroom."""
        accepted = self.mine is not None and self.mine.state == ParticipantState.ACCEPTED
        return self.session.is_online and (self.is_tutor or accepted)

    @cached_property
    def see_earnings(self) -> bool:
        """Earnings, the on-behalf reason and the overlogging flag."""
        return self.is_tutor or self.is_agent or self.is_admin

    @cached_property
    def see_internal_notes(self) -> bool:
        """Why Support corrected or voided a logged session, and who did it: Support and the
        organization's admins only. The tutor and the students see that it was corrected,
        and when; the tutor's email says what changed in their pay."""
        return self.is_agent or self.is_admin

    @cached_property
    def see_history(self) -> bool:
        return self.is_tutor or self.is_agent or self.is_admin

    # -- for services -------------------------------------------------------------------------

    def completion_refusal(self) -> Forbidden | None:
        return None if self.completes else Forbidden(ONLY_THE_TUTOR_COMPLETES)


def session_permissions(
    viewer: User,
    session: Session,
    *,
    now: datetime | None = None,
    admin_org_ids: Collection[int] | None = None,
) -> SessionPermissions:
    """What `viewer` may do on `session`. Pass `admin_org_ids` when answering for many
    sessions at once, so the organization check costs no query per session."""
    return SessionPermissions(viewer, session, now=now, admin_org_ids=admin_org_ids)
