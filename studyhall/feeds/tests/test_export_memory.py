"""Exports stream: the memory an export needs does not grow with the number of sessions."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from studyhall.feeds import exports
from studyhall.feeds.exports import EXPORTS
from studyhall.tutoring.models import Mode, Origin, Participant, ParticipantState, Session, Status

if TYPE_CHECKING:
    from conftest import Cast

pytestmark = pytest.mark.postgres

START = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def add_sessions(cast: Cast, count: int) -> None:
    sessions = Session.objects.bulk_create(
        Session(
            organization=cast.org,
            course=cast.course,
            tutor=cast.tutor,
            mode=Mode.ONLINE,
            scheduled_start=START + timedelta(minutes=i),
            planned_minutes=30,
            status=Status.SCHEDULED,
            origin=Origin.INVITATION,
            created_by=cast.tutor,
            notes="x" * 200,
        )
        for i in range(count)
    )
    Participant.objects.bulk_create(
        Participant(session=s, user=u, state=ParticipantState.ACCEPTED)
        for s in sessions
        for u in (cast.student, cast.student2)
    )


def peak_bytes_of_sessions_export(cast: Cast) -> tuple[int, int]:
    gc.collect()
    tracemalloc.start()
    try:
        lines = sum(1 for _ in EXPORTS["sessions"].lines(cast.org))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines, peak


CHUNK = 200


def test_four_times_the_sessions_needs_no_more_memory(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Smaller chunks than in production, so that six chunks' worth of sessions stays quick.
    monkeypatch.setattr(exports, "CHUNK", CHUNK)
    add_sessions(cast, 2 * CHUNK)
    peak_bytes_of_sessions_export(cast)  # first, to fill the one-time caches (query compiler)
    small_lines, small_peak = peak_bytes_of_sessions_export(cast)
    add_sessions(cast, 6 * CHUNK)
    large_lines, large_peak = peak_bytes_of_sessions_export(cast)
    assert (small_lines, large_lines) == (2 * CHUNK + 1, 8 * CHUNK + 1)
    # Held at once: a chunk of sessions with their students (and the next one being read),
    # never the whole file.
    assert large_peak < small_peak * 1.25, (small_peak, large_peak)
