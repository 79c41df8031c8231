"""Measured call time: the seconds during which the tutor and at least one student were in the
call together, from the join/leave history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from studyhall.calls.models import CallEvent, EventKind

Interval = tuple[datetime, datetime]


def presence_intervals(events: Iterable[CallEvent], *, now: datetime) -> dict[int, list[Interval]]:
    """Each user's time in the call, merged across their tabs and reconnects."""
    open_since: dict[str, tuple[int, datetime]] = {}
    spans: dict[int, list[Interval]] = {}
    for event in events:
        if event.kind == EventKind.JOINED:
            open_since.setdefault(event.peer_id, (event.user_id, event.at))
        elif event.peer_id in open_since:
            user_id, start = open_since.pop(event.peer_id)
            if event.at > start:
                spans.setdefault(user_id, []).append((start, event.at))
    for user_id, start in open_since.values():
        if now > start:
            spans.setdefault(user_id, []).append((start, now))
    return {user_id: merge(intervals) for user_id, intervals in spans.items()}


def merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def overlap_seconds(a: list[Interval], b: list[Interval]) -> float:
    """Total length of the intersection of two merged, sorted interval lists."""
    total = 0.0
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if end > start:
            total += (end - start).total_seconds()
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def together_seconds(
    events: Iterable[CallEvent], *, tutor_id: int, student_ids: set[int], now: datetime
) -> float:
    intervals = presence_intervals(events, now=now)
    students = merge([span for uid in student_ids for span in intervals.get(uid, [])])
    return overlap_seconds(intervals.get(tutor_id, []), students)
