"""The hook the completion service uses to ask who else is still in the online call.

The classroom provides the real implementation; `STUDYHALL_CALL_PRESENCE` names the class.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import cache
from typing import Protocol

from django.conf import settings
from django.test.signals import setting_changed
from django.utils.module_loading import import_string


class CallPresence(Protocol):
    def user_ids_in_call(self, session_id: int) -> set[int]:
        """The users currently present in the session's online call."""
        ...

    def measured_seconds(
        self,
        session_id: int,
        *,
        tutor_id: int | None = None,
        student_ids: Collection[int] | None = None,
    ) -> float | None:
        """How long the tutor and at least one student were in the call together (None when
        nobody ever joined it). A caller that holds the session passes its tutor and accepted
        students, which are then not read again."""
        ...

    def first_joins(self, session_ids: Collection[int]) -> dict[int, dict[int, datetime]]:
        """For each of the sessions, when each person who ever joined its call first did
        (sessions nobody joined are left out). One read, however many sessions."""
        ...


class NoCallPresence:
    """For deployments without the classroom: nobody is ever in a call."""

    def user_ids_in_call(self, session_id: int) -> set[int]:
        return set()

    def measured_seconds(
        self,
        session_id: int,
        *,
        tutor_id: int | None = None,
        student_ids: Collection[int] | None = None,
    ) -> float | None:
        return None

    def first_joins(self, session_ids: Collection[int]) -> dict[int, dict[int, datetime]]:
        return {}


@cache
def call_presence() -> CallPresence:
    presence: CallPresence = import_string(settings.STUDYHALL_CALL_PRESENCE)()
    return presence


def _forget_presence_on_settings_change(*, setting: str, **_: object) -> None:
    if setting == "STUDYHALL_CALL_PRESENCE":
        call_presence.cache_clear()


setting_changed.connect(_forget_presence_on_settings_change)
