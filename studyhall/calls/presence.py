"""The classroom's answer to the completion service's questions about the call."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db.models import Min
from django.utils import timezone

from studyhall.calls import services
from studyhall.calls.measure import together_seconds
from studyhall.calls.models import CallEvent, EventKind
from studyhall.tutoring.models import ParticipantState, Session


class DatabaseCallPresence:
    def user_ids_in_call(self, session_id: int) -> set[int]:
        return services.present_user_ids(session_id)

    def measured_seconds(
        self,
        session_id: int,
        *,
        tutor_id: int | None = None,
        student_ids: Collection[int] | None = None,
    ) -> float | None:
        """Seconds the tutor and at least one student were in the call together; None when
        nobody ever joined."""
        events = list(CallEvent.objects.filter(session_id=session_id).order_by("at", "id"))
        if not events:
            return None
        if tutor_id is None or student_ids is None:
            session = Session.objects.only("tutor_id").get(pk=session_id)
            tutor_id = session.tutor_id
            student_ids = set(
                session.participants.filter(state=ParticipantState.ACCEPTED).values_list(
                    "user_id", flat=True
                )
            )
        return together_seconds(
            events, tutor_id=tutor_id, student_ids=set(student_ids), now=timezone.now()
        )

    def first_joins(self, session_ids: Collection[int]) -> dict[int, dict[int, datetime]]:
        """When each person first joined each session's call (the join/leave history, by its
        session-and-time index)."""
        if not session_ids:
            return {}
        rows = (
            CallEvent.objects.filter(session_id__in=set(session_ids), kind=EventKind.JOINED)
            .values("session_id", "user_id")
            .annotate(first=Min("at"))
            .order_by()
        )
        joins: dict[int, dict[int, datetime]] = {}
        for row in rows:
            joins.setdefault(row["session_id"], {})[row["user_id"]] = row["first"]
        return joins
