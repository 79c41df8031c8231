"""The Sessions tab: Needs completion, Upcoming and Past, for a tutor and for a student."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from studyhall.testing import factories as f
from studyhall.tutoring.models import Mode, Origin, ParticipantState, Session, Status
from studyhall.tutoring.selectors import (
    deadline_of,
    opens_at,
    section_page,
    session_list,
    sessions_of,
    sessions_tab,
)

if TYPE_CHECKING:
    from conftest import Cast

NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def ids(sessions: list[Session]) -> list[int]:
    return [s.pk for s in sessions]


class Scene:
    """A tutor's week: sessions in every section, created in a shuffled order."""

    def __init__(self, cast: Cast) -> None:
        def make(start: datetime, **kwargs: Any) -> Session:
            kwargs.setdefault("students", [cast.student])
            return f.make_session(org=cast.org, tutor=cast.tutor, start=start, **kwargs)

        self.upcoming_later = make(NOW + 48 * H)
        # Starts first, but a 90-minute session closes later than the short one below.
        self.long_started = make(NOW - 2 * H, minutes=90)
        self.canceled_future = make(NOW + 24 * H, status=Status.CANCELED)
        self.short_started = make(NOW - 90 * M, minutes=5)
        self.upcoming_soon = make(NOW + 1 * H)
        self.closed = make(NOW - 100 * H)  # its grace period is over: still listed to log
        self.completed = make(NOW - 72 * H, status=Status.COMPLETED)
        self.blocked = make(
            NOW - 3 * H,
            students=[cast.student, cast.student2],
            states=[ParticipantState.ACCEPTED, ParticipantState.INVITED],
        )
        self.request = make(NOW - 30 * M, status=Status.REQUESTED, origin=Origin.REQUEST)
        self.missed = make(NOW - 50 * H, status=Status.MISSED)
        # An online session whose call began early: it can be logged already.
        self.call_began = make(NOW + 10 * M, mode=Mode.ONLINE)
        Session.objects.filter(pk=self.call_began.pk).update(call_started_at=NOW - 20 * M)
        self.exactly_now = make(NOW)
        self.in_progress = make(NOW - 10 * M, mode=Mode.ONLINE, status=Status.IN_PROGRESS)


def test_the_tutor_s_sections(cast: Cast) -> None:
    scene = Scene(cast)
    tab = sessions_tab(cast.tutor, now=NOW)
    assert ids(tab.needs_completion) == ids(
        [
            scene.closed,  # closed 27 hours ago
            scene.blocked,  # closes at NOW + 70 h
            scene.short_started,  # NOW + 70 h 35 min
            scene.long_started,  # NOW + 71 h 30 min
            scene.request,  # NOW + 72 h 30 min
            scene.in_progress,  # NOW + 72 h 50 min
            scene.exactly_now,  # NOW + 73 h
            scene.call_began,  # NOW + 73 h 10 min
        ]
    )
    assert ids(tab.upcoming) == ids([scene.upcoming_soon, scene.upcoming_later])
    assert ids(tab.past) == ids([scene.canceled_future, scene.missed, scene.completed])


def test_the_student_s_view_has_nothing_to_complete(cast: Cast) -> None:
    scene = Scene(cast)
    tab = sessions_tab(cast.student, now=NOW)
    assert tab.needs_completion == []
    assert ids(tab.upcoming) == ids([scene.upcoming_soon, scene.upcoming_later])
    # Started but open sessions are past for a student, newest first.
    assert ids(tab.past) == ids(
        [
            scene.canceled_future,
            scene.call_began,
            scene.exactly_now,
            scene.in_progress,
            scene.request,
            scene.short_started,
            scene.long_started,
            scene.blocked,
            scene.missed,
            scene.completed,
            scene.closed,
        ]
    )


def test_a_student_sees_only_their_own_sessions(cast: Cast) -> None:
    scene = Scene(cast)
    tab = sessions_tab(cast.student2, now=NOW)
    assert (tab.needs_completion, tab.upcoming) == ([], [])
    assert ids(tab.past) == [scene.blocked.pk]


def test_other_people_see_none_of_it(cast: Cast) -> None:
    Scene(cast)
    for who in (cast.other_tutor, cast.admin, cast.outsider, cast.agent):
        tab = sessions_tab(who, now=NOW)
        assert (tab.needs_completion, tab.upcoming, tab.past) == ([], [], [])


def test_a_tutor_who_is_also_a_student_completes_only_what_they_tutor(cast: Cast) -> None:
    theirs = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - 2 * H
    )
    as_student = f.make_session(
        org=cast.org, tutor=cast.other_tutor, students=[cast.tutor], start=NOW - 2 * H
    )
    tab = sessions_tab(cast.tutor, now=NOW)
    assert ids(tab.needs_completion) == [theirs.pk]
    assert ids(tab.past) == [as_student.pk]


def test_the_past_is_limited(cast: Cast) -> None:
    done = [
        f.make_session(
            org=cast.org, tutor=cast.tutor, students=[cast.student],
            start=NOW - (day + 1) * 24 * H, status=Status.COMPLETED,
        )
        for day in range(5)
    ]  # fmt: skip
    tab = sessions_tab(cast.tutor, now=NOW, rows=3)
    assert ids(tab.past) == ids(done[:3])
    assert tab.more == {"needs_completion": None, "upcoming": None, "past": 2}
    rest, more = section_page(cast.tutor, "past", now=NOW, page=2, rows=3)
    assert (ids(rest), more) == (ids(done[3:]), None)


def test_the_tab_uses_the_clock_by_default(cast: Cast) -> None:
    started = f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student])
    assert ids(sessions_tab(cast.tutor).needs_completion) == [started.pk]


def test_the_number_of_queries_does_not_grow_with_the_sessions(cast: Cast) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            tab = sessions_tab(cast.tutor, now=NOW)
            for session in [*tab.needs_completion, *tab.upcoming, *tab.past]:
                _ = [p.user.display_name for p in session.participants.all()]
                _ = (session.course.code, session.organization.grace_hours, session.tutor.email)
        return len(queries)

    f.make_session(org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - H)
    f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - 24 * H,
        status=Status.COMPLETED,
    )  # fmt: skip
    # Each section's page (3), and the participants of every row shown (1).
    assert count() == 4
    Scene(cast)
    assert count() == 4


def test_each_section_shows_a_bounded_page_however_long_the_history(cast: Cast) -> None:
    for n in range(25):
        f.make_session(
            org=cast.org, tutor=cast.tutor, students=[cast.student],
            start=NOW - (n + 1) * 24 * H, status=Status.COMPLETED,
        )  # fmt: skip
        f.make_session(
            org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW + (n + 1) * H
        )
        f.make_session(
            org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - (n + 1) * M
        )
    tab = sessions_tab(cast.tutor, now=NOW)
    assert [len(tab.needs_completion), len(tab.upcoming), len(tab.past)] == [20, 20, 20]
    assert tab.more == {"needs_completion": 2, "upcoming": 2, "past": 2}
    pages = {
        section: section_page(cast.tutor, section, now=NOW, page=2)
        for section in ("needs_completion", "upcoming", "past")
    }
    assert {section: (len(rows), more) for section, (rows, more) in pages.items()} == {
        "needs_completion": (5, None),
        "upcoming": (5, None),
        "past": (5, None),
    }
    shown = {s.pk for s in tab.upcoming} | {s.pk for s in pages["upcoming"][0]}
    assert len(shown) == 25


def test_group_sessions_are_listed_once(cast: Cast) -> None:
    group = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student, cast.student2], start=NOW - H
    )
    assert ids(list(sessions_of(cast.tutor))) == [group.pk]
    assert ids(sessions_tab(cast.tutor, now=NOW).needs_completion) == [group.pk]


def test_deadline_and_opening_of_a_session(cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW, minutes=45,
        mode=Mode.ONLINE,
    )  # fmt: skip
    assert opens_at(session) == NOW
    assert deadline_of(session) == NOW + 45 * M + 72 * H
    session.call_started_at = NOW - 5 * M
    session.call_ended_at = NOW + 70 * M
    assert opens_at(session) == NOW - 5 * M
    assert deadline_of(session) == NOW + 70 * M + 72 * H
    cast.org.grace_hours = 24
    cast.org.save()
    session = Session.objects.select_related("organization").get(pk=session.pk)
    assert deadline_of(session) == NOW + 45 * M + 24 * H


def test_session_list_filters_and_pages(cast: Cast) -> None:
    scene = Scene(cast)
    assert ids(session_list(cast.tutor, status=Status.COMPLETED)) == [scene.completed.pk]
    assert ids(session_list(cast.tutor, status="missed")) == [scene.missed.pk]
    everything = session_list(cast.tutor)
    assert len(everything) == 13
    assert [s.scheduled_start for s in everything] == sorted(
        (s.scheduled_start for s in everything), reverse=True
    )
    assert ids(session_list(cast.tutor, limit=2, offset=1)) == ids(everything[1:3])
    assert ids(session_list(cast.student2)) == [scene.blocked.pk]
