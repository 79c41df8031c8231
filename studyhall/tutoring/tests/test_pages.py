"""The session pages: the Sessions tab, a session's details and actions, the Complete Session
form, the emails about sessions, and the layout around them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import reverse

from conftest import Cast
from studyhall.core.errors import DomainError
from studyhall.ledger.models import Transfer
from studyhall.ledger.selectors import balances_of
from studyhall.testing import factories as f
from studyhall.testing.html import untimed
from studyhall.tutoring import selectors
from studyhall.tutoring.models import Completion, Origin, ParticipantState, Session, Status
from studyhall.tutoring.services import rescheduling
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.notify import send_recap_to_students, send_session_event

NOW = datetime(2025, 11, 20, 15, 0, tzinfo=UTC)  # 10:00 AM in New York
ACC, INV, DEC, REM = (
    ParticipantState.ACCEPTED,
    ParticipantState.INVITED,
    ParticipantState.DECLINED,
    ParticipantState.REMOVED,
)
SHORT_RECAP = {
    "topics_covered": "Limiting  reagents.",
    "tutee_progress": "Did well.",
    "next_steps": "More practice.",
}


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    # The personas' passwords are hashed on every test; the real hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cast(cast: Cast) -> Cast:
    """The shared personas, with the tutor living in New York (the org's zone)."""
    cast.tutor.time_zone = "America/New_York"
    cast.tutor.save(update_fields=["time_zone"])
    return cast


def as_user(client: Client, user: object) -> Client:
    client.force_login(user)  # type: ignore[arg-type]
    return client


def html_of(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def ready(cast: Cast, **kwargs: Any) -> Session:
    """An in-person session that began an hour ago, its student accepted: completable now."""
    defaults: dict[str, Any] = {
        "org": cast.org,
        "tutor": cast.tutor,
        "students": [cast.student],
        "start": NOW - timedelta(hours=1),
        "minutes": 60,
    }
    return f.make_session(**(defaults | kwargs))


def complete_form(**overrides: str) -> dict[str, str]:
    return {"minutes": "55", **f.GOOD_RECAP, "idempotency_key": "key-1"} | overrides


# -- Sessions tab -------------------------------------------------------------------------


def test_sessions_tab_sorts_sessions_and_counts_down(client: Client, cast: Cast, frozen: None):
    # Ended 41 hours ago, so its 72-hour grace period has 31 hours left.
    open_one = ready(cast, start=NOW - timedelta(hours=42))
    closed = ready(cast, start=NOW - timedelta(hours=80), students=[cast.student2])
    request = ready(
        cast, status=Status.REQUESTED, origin=Origin.REQUEST, start=NOW - timedelta(minutes=30)
    )
    upcoming = ready(cast, start=NOW + timedelta(days=1))
    canceled = ready(cast, start=NOW - timedelta(days=3), status=Status.CANCELED)

    html = html_of(as_user(client, cast.tutor).get(reverse("tutoring:sessions")))

    needs = section(html, "needs-completion")
    rows = needs.split('<li class="session-row">')[1:]
    # Nearest deadline first: the closed one, then the one with 31 hours left, then the request.
    assert [re.search(r'/sessions/(\d+)/"', row).group(1) for row in rows] == [  # type: ignore[union-attr]
        str(closed.pk),
        str(open_one.pk),
        str(request.pk),
    ]
    assert "Logging closed 7 hours ago · " in rows[0]
    assert "Ask Support to log this session" in rows[0]
    assert "Logging closes in 31 hours" in rows[1]
    assert "Accept the request to log it" in rows[2]
    assert "Maya Chen" in rows[1] and "Sam Lee" in rows[0]
    # The start in the viewer's zone, with the zone named.
    assert "Tue, Nov 18, 4:00 PM EST" in rows[1]
    assert f"/sessions/{upcoming.pk}/" in section(html, "upcoming")
    past = section(html, "past")
    assert f"/sessions/{canceled.pk}/" in past and "Canceled" in past


def test_countdown_wording_follows_the_clock(client: Client, cast: Cast):
    session = ready(cast, start=NOW - timedelta(hours=1))  # ends NOW, closes NOW + 72 h
    as_user(client, cast.tutor)
    url = reverse("tutoring:sessions")
    expectations = [
        (NOW, "Logging closes in 72 hours"),
        (NOW + timedelta(hours=72) - timedelta(minutes=45), "Logging closes in 45 minutes"),
        (NOW + timedelta(hours=72), "Logging closes in less than a minute"),
        (NOW + timedelta(hours=72, minutes=1), "Logging closed 1 minute ago · "),
    ]
    for moment, words in expectations:
        with time_machine.travel(moment, tick=False):
            needs = section(html_of(client.get(url)), "needs-completion")
        assert f"/sessions/{session.pk}/" in needs
        assert words in needs, moment


def test_status_is_worded_for_each_viewer(client: Client, cast: Cast, frozen: None):
    requested = ready(
        cast, status=Status.REQUESTED, origin=Origin.REQUEST, start=NOW + timedelta(days=1)
    )
    invited = ready(cast, states=[INV], start=NOW + timedelta(days=2))
    url = reverse("tutoring:sessions")

    tutor_view = section(html_of(as_user(client, cast.tutor).get(url)), "upcoming")
    student_view = section(html_of(as_user(client, cast.student).get(url)), "upcoming")

    def badge(html: str, session: Session) -> str:
        row = html[html.index(f"/sessions/{session.pk}/") :]
        found = re.search(r'class="session-row__status"><span class="badge[^"]*">([^<]+)<', row)
        return found.group(1)  # type: ignore[union-attr]

    assert badge(tutor_view, requested) == "Requested"
    assert badge(student_view, requested) == "Awaiting tutor"
    assert badge(tutor_view, invited) == "Awaiting student"
    assert badge(student_view, invited) == "Invited"
    assert "with Tess Tutor" in student_view
    assert "with Maya Chen" in tutor_view


def test_a_student_who_declined_sees_declined_among_past_sessions(
    client: Client, cast: Cast, frozen: None
) -> None:
    group = ready(
        cast,
        students=[cast.student, cast.student2],
        states=[DEC, ACC],
        start=NOW + timedelta(days=1),
    )
    tab = html_of(as_user(client, cast.student).get(reverse("tutoring:sessions")))
    assert f"/sessions/{group.pk}/" not in section(tab, "upcoming")
    past = section(tab, "past")
    row = past[past.index(f"/sessions/{group.pk}/") :]
    assert row.startswith(f'/sessions/{group.pk}/"')
    assert (
        '<span class="session-row__status"><span class="badge badge--declined">Declined</span>'
    ) in row
    detail = html_of(client.get(reverse("tutoring:detail", args=[group.pk])))
    assert '<p><span class="badge badge--declined">Declined</span></p>' in detail
    # Sam, who accepted, still has it coming up, Scheduled.
    other = html_of(as_user(client, cast.student2).get(reverse("tutoring:sessions")))
    upcoming = section(other, "upcoming")
    assert f"/sessions/{group.pk}/" in upcoming
    assert '<span class="badge badge--scheduled">Scheduled</span>' in upcoming


def test_a_new_time_proposed_keeps_a_scheduled_session_scheduled(
    client: Client, cast: Cast, frozen: None
) -> None:
    session = ready(cast, start=NOW + timedelta(days=1))
    rescheduling.propose_time(
        session_id=session.pk, actor=cast.tutor, scheduled_start=NOW + timedelta(days=2)
    )
    session.refresh_from_db()
    assert session.status == Status.INVITED  # the student answers the new time
    shown = (
        '<span class="badge badge--scheduled">Scheduled</span> '
        '<span class="marker marker--proposal">New time proposed</span>'
    )
    for who in (cast.tutor, cast.student):
        tab = section(html_of(as_user(client, who).get(reverse("tutoring:sessions"))), "upcoming")
        assert f'<span class="session-row__status">{shown}</span>' in tab, who
        detail = html_of(client.get(reverse("tutoring:detail", args=[session.pk])))
        assert f"<p>{shown}</p>" in detail, who


def test_a_student_who_accepted_waits_for_the_others(client: Client, cast: Cast, frozen: None):
    group = ready(
        cast,
        students=[cast.student, cast.student2],
        states=[ACC, INV],
        start=NOW + timedelta(days=1),
    )
    url = reverse("tutoring:detail", args=[group.pk])
    badge = '<p><span class="badge badge--invited">{}</span></p>'
    assert badge.format("Awaiting student") in html_of(as_user(client, cast.student).get(url))
    assert badge.format("Invited") in html_of(as_user(client, cast.student2).get(url))
    assert badge.format("Awaiting student") in html_of(as_user(client, cast.admin).get(url))


def test_students_see_no_needs_completion_section(client: Client, cast: Cast, frozen: None):
    ready(cast)
    html = html_of(as_user(client, cast.student).get(reverse("tutoring:sessions")))
    assert 'id="needs-completion"' not in html
    assert "Awaiting" not in section(html, "past")


def test_empty_sections_say_what_belongs_there(client: Client, cast: Cast, frozen: None):
    html = html_of(as_user(client, cast.tutor).get(reverse("tutoring:sessions")))
    assert "Nothing to log." in section(html, "needs-completion")
    assert "No upcoming sessions." in section(html, "upcoming")
    assert "No past sessions yet." in section(html, "past")


def _sessions_of_every_kind(cast: Cast, count: int) -> None:
    both = [cast.student, cast.student2]
    kinds: list[tuple[timedelta, dict[str, Any]]] = [
        (timedelta(hours=-2), {}),
        (timedelta(days=1), {"states": [INV, ACC], "students": both}),
        (timedelta(days=-2), {"status": Status.CANCELED}),
        (timedelta(hours=-1), {"status": Status.REQUESTED, "origin": Origin.REQUEST}),
    ]
    for n in range(count):
        offset, extra = kinds[n % len(kinds)]
        ready(cast, start=NOW + offset - timedelta(minutes=n), **extra)


def test_sessions_tab_query_count_does_not_grow(
    client: Client, cast: Cast, frozen: None, django_assert_num_queries
):
    as_user(client, cast.tutor)
    url = reverse("tutoring:sessions")
    _sessions_of_every_kind(cast, 4)
    # session, user, tutor role, a page of each of the three sections, the participants of
    # every row shown, header balance, and the tutor's currencies for a zero balance.
    with django_assert_num_queries(8):
        assert client.get(url).status_code == 200
    _sessions_of_every_kind(cast, 12)
    with django_assert_num_queries(8):
        html = html_of(client.get(url))
    assert html.count('<li class="session-row">') == 16


def test_a_long_history_renders_bounded_sections_with_show_more(
    client: Client, cast: Cast, frozen: None, django_assert_num_queries: Any
) -> None:
    as_user(client, cast.tutor)
    _sessions_of_every_kind(cast, 120)  # 60 to log, 30 upcoming, 30 past
    with django_assert_num_queries(8):
        html = html_of(client.get(reverse("tutoring:sessions")))
    # Twenty rows in each section, however long the history, and a way to the rest.
    assert html.count('<li class="session-row">') == 60
    assert html.count('class="session-list__more"') == 3
    more_past = reverse("tutoring:sessions_section", args=["needs_completion"]) + "?page=2"
    assert f'hx-get="{more_past}"' in html
    # "Show more" (htmx) returns the next rows alone, with its own "Show more".
    # session, user, the page's rows, their participants, header balance and currencies.
    with django_assert_num_queries(6):
        part = html_of(client.get(more_past, headers={"HX-Request": "true"}))
    assert part.count('<li class="session-row">') == 20
    assert "<h1>" not in part
    page_3 = more_past.replace("page=2", "page=3")
    assert f'hx-get="{page_3}"' in part
    last = html_of(
        client.get(more_past.replace("page=2", "page=3"), headers={"HX-Request": "true"})
    )
    assert (last.count('<li class="session-row">'), "session-list__more" in last) == (20, False)
    # Without JavaScript the link is a page of its own.
    page = client.get(more_past)
    assert page.status_code == 200
    assert "Needs completion sessions" in html_of(page)
    assert html_of(page).count('class="session-row"') == 20
    assert client.get(reverse("tutoring:sessions_section", args=["nope"])).status_code == 404


def test_sessions_tab_needs_sign_in(client: Client, db: None):
    response = client.get(reverse("tutoring:sessions"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_root_leads_to_the_sessions_tab(client: Client, cast: Cast):
    response = as_user(client, cast.tutor).get("/")
    assert response.status_code == 302 and response["Location"] == reverse("tutoring:sessions")


# -- Session details ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["tutor", "student", "admin", "agent"])
def test_details_show_the_session(client: Client, cast: Cast, frozen: None, who: str):
    session = ready(cast, students=[cast.student, cast.student2], states=[ACC, INV])
    session.notes = "Bring last week's quiz."
    session.save()
    html = html_of(
        as_user(client, getattr(cast, who)).get(reverse("tutoring:detail", args=[session.pk]))
    )

    assert "CHEM 110 — General Chemistry" in html
    assert "In person" in html and "Library room 2" in html
    assert "1 h" in html and "Bring last week&#x27;s quiz." in html
    assert "Tess Tutor" in html and "Maya Chen" in html and "Sam Lee" in html
    assert '<span class="badge badge--invited">Invited</span>' in html  # Sam's state
    if who == "tutor":
        assert "Thu, Nov 20, 9:00 AM" in html and "10:00 AM EST" in html
        assert "America/New_York" in html
    else:  # the other personas live in UTC
        assert "Thu, Nov 20, 2:00 PM" in html and "3:00 PM UTC" in html


@pytest.mark.parametrize(
    ("who", "status"), [("other_tutor", 403), ("student2", 403), ("outsider", 404)]
)
def test_details_refuse_whoever_is_not_on_the_session(
    client: Client, cast: Cast, who: str, status: int
):
    session = ready(cast)
    response = as_user(client, getattr(cast, who)).get(
        reverse("tutoring:detail", args=[session.pk])
    )
    assert response.status_code == status
    if status == 403:
        assert "You are not part of this session." in html_of(response)


def test_details_need_sign_in(client: Client, cast: Cast):
    session = ready(cast)
    url = reverse("tutoring:detail", args=[session.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


def test_details_of_a_missing_session_are_404(client: Client, cast: Cast):
    assert as_user(client, cast.tutor).get("/sessions/999999/").status_code == 404


def test_complete_button_appears_when_the_tutor_may_complete(
    client: Client, cast: Cast, frozen: None
):
    session = ready(cast)
    url = reverse("tutoring:detail", args=[session.pk])
    html = html_of(as_user(client, cast.tutor).get(url))
    complete = reverse("tutoring:complete", args=[session.pk])
    link = f'<a class="button button--primary" href="{complete}">Complete Session</a>'
    assert link in html
    assert "Logging closes in 72 hours" in html
    # Nobody else sees it.
    for who in (cast.student, cast.admin):
        assert "Complete Session" not in html_of(as_user(client, who).get(url))


def test_complete_button_waits_for_every_student_to_accept(
    client: Client, cast: Cast, frozen: None
):
    session = ready(cast, students=[cast.student, cast.student2], states=[ACC, INV])
    html = html_of(as_user(client, cast.tutor).get(reverse("tutoring:detail", args=[session.pk])))
    assert "Complete Session" not in html
    assert (
        "Sam Lee has not accepted the invitation yet. If they did not come, remove them from "
        "the session, then complete it."
    ) in html


def test_complete_button_explains_a_closed_grace_period(client: Client, cast: Cast):
    with time_machine.travel(NOW - timedelta(hours=81), tick=False):
        session = ready(cast, start=NOW - timedelta(hours=81))  # ended 80 h ago, closed 8 h ago
    with time_machine.travel(NOW, tick=False):
        html = html_of(
            as_user(client, cast.tutor).get(reverse("tutoring:detail", args=[session.pk]))
        )
    assert "Complete Session" not in html
    assert "Logging closed 8 hours ago: the 72-hour grace period ended on Tue, Nov 20" not in html
    # One "logging closed" message per page: Support's section, with the link to ask it.
    assert html.count("Logging closed") == 1
    assert "Logging closed 8 hours ago</h2>" in html
    assert "Ask Support to log this session</a>" in html


def test_complete_button_waits_for_the_start(client: Client, cast: Cast, frozen: None):
    session = ready(cast, start=NOW + timedelta(hours=2))
    html = html_of(as_user(client, cast.tutor).get(reverse("tutoring:detail", args=[session.pk])))
    assert "Complete Session" not in html
    assert (
        "This session starts on Thu, Nov 20 at 12:00 PM EST; you can complete it from then."
        in untimed(html)
    )


class SomeoneInCall:
    """A call presence for tests: `present` are in every session's call."""

    present: set[int] = set()

    def user_ids_in_call(self, session_id: int) -> set[int]:
        return set(self.present)

    def measured_seconds(self, session_id: int) -> float | None:
        return None


def test_complete_button_waits_until_the_call_is_empty(
    client: Client, cast: Cast, frozen: None, settings
):
    settings.STUDYHALL_CALL_PRESENCE = f"{__name__}.SomeoneInCall"
    session = ready(cast, mode="online")
    url = reverse("tutoring:detail", args=[session.pk])
    SomeoneInCall.present = {cast.tutor.pk, cast.student.pk}
    try:
        html = html_of(as_user(client, cast.tutor).get(url))
        assert "Complete Session" not in html
        assert "Maya Chen is still in the call." in html
        # The panel asks again by itself until the call is empty.
        assert f'hx-get="{url}?part=complete-panel"' in html
        SomeoneInCall.present = {cast.tutor.pk}
        panel = client.get(url, {"part": "complete-panel"}, headers={"HX-Request": "true"})
        # And back: when Maya rejoins, the button goes away again.
        SomeoneInCall.present = {cast.tutor.pk, cast.student.pk}
        rejoined = client.get(url, {"part": "complete-panel"}, headers={"HX-Request": "true"})
    finally:
        SomeoneInCall.present = set()
    assert html_of(panel).lstrip().startswith('<section id="complete-panel"')
    assert "Complete Session" in html_of(panel)
    # The panel keeps asking both ways while the classroom can still change it.
    assert f'hx-get="{url}?part=complete-panel"' in html_of(panel)
    assert "Complete Session" not in html_of(rejoined)
    assert "Maya Chen is still in the call." in html_of(rejoined)


def test_an_online_sessions_badge_follows_the_call(client: Client, cast: Cast, frozen: None):
    session = ready(cast, mode="online")
    url = reverse("tutoring:detail", args=[session.pk])
    html = html_of(as_user(client, cast.student).get(url))
    assert (
        f'<p id="session-status" aria-live="polite" hx-get="{url}?part=status-badge" '
        'hx-trigger="every 5s" hx-swap="innerHTML">'
        '<span class="badge badge--scheduled">Scheduled</span></p>'
    ) in html
    Session.objects.filter(pk=session.pk).update(status=Status.STARTING)
    badge = client.get(url, {"part": "status-badge"}, headers={"HX-Request": "true"})
    assert html_of(badge).strip() == '<span class="badge badge--starting">Starting</span>'
    Session.objects.filter(pk=session.pk).update(status=Status.SCHEDULED)
    badge = client.get(url, {"part": "status-badge"}, headers={"HX-Request": "true"})
    assert html_of(badge).strip() == '<span class="badge badge--scheduled">Scheduled</span>'


def test_logging_closed_is_said_once_on_the_session_page(client: Client, cast: Cast, frozen: None):
    session = ready(cast, start=NOW - timedelta(hours=80))
    html = html_of(as_user(client, cast.tutor).get(reverse("tutoring:detail", args=[session.pk])))
    assert html.count("Logging closed") == 1
    assert 'id="complete-panel"' not in html


def test_support_agent_may_complete_for_the_tutor(client: Client, cast: Cast, frozen: None):
    session = ready(cast, start=NOW - timedelta(hours=100))  # long past the grace period
    html = html_of(as_user(client, cast.agent).get(reverse("tutoring:detail", args=[session.pk])))
    assert "Complete Session for the tutor" in html


# The page says what the service would answer: same code, same words, in each situation.
BLOCKED: dict[str, dict[str, object]] = {
    "session_not_completable": {"status": Status.REQUESTED, "origin": Origin.REQUEST},
    "session_not_started": {"start": NOW + timedelta(minutes=1)},
    "grace_period_expired": {"start": NOW - timedelta(hours=73, minutes=1)},
    "participants_not_accepted": {"states": [INV]},
    "no_participants": {"states": [REM]},
}


@pytest.mark.parametrize("code", [*BLOCKED, "participants_in_call", None])
def test_completion_blocker_words_match_the_service(
    cast: Cast, frozen: None, settings, code: str | None
):
    settings.STUDYHALL_CALL_PRESENCE = f"{__name__}.SomeoneInCall"
    # Only an online session has a call to still be in.
    in_call = {"mode": "online"} if code == "participants_in_call" else {}
    session = ready(cast, **BLOCKED.get(code or "", in_call))
    SomeoneInCall.present = {cast.student.pk} if code == "participants_in_call" else set()
    try:
        details = selectors.with_details(Session.objects.all()).get(pk=session.pk)
        blocker = selectors.completion_blocker(details, cast.tutor)
        try:
            complete_session(
                session_id=session.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP
            )
        except DomainError as exc:
            refusal: tuple[str, str] | None = (exc.code, exc.message)
        else:
            refusal = None
    finally:
        SomeoneInCall.present = set()
    assert (blocker.code, blocker.message) == refusal if blocker else refusal is None
    assert (blocker.code if blocker else None) == code


def test_an_in_person_session_never_asks_who_is_in_a_call(
    cast: Cast, frozen: None, settings: Any
) -> None:
    settings.STUDYHALL_CALL_PRESENCE = f"{__name__}.SomeoneInCall"
    SomeoneInCall.present = {cast.student.pk}
    try:
        session = ready(cast)
        details = selectors.with_details(Session.objects.all()).get(pk=session.pk)
        assert selectors.completion_blocker(details, cast.tutor) is None
        complete_session(session_id=session.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP)
    finally:
        SomeoneInCall.present = set()
    session.refresh_from_db()
    assert session.status == "completed"


def test_completion_blocker_for_others(cast: Cast, frozen: None):
    session = selectors.with_details(Session.objects.all()).get(pk=ready(cast).pk)
    blocker = selectors.completion_blocker(session, cast.student)
    assert blocker is not None
    assert (blocker.code, blocker.message) == (
        "forbidden",
        "Only the session's tutor can complete it.",
    )
    assert selectors.completion_blocker(session, cast.agent) is None


# -- Accept, decline, cancel, remove ------------------------------------------------------


def post(client: Client, name: str, session: Session, data: dict | None = None, **kw: int):
    return client.post(reverse(f"tutoring:{name}", kwargs={"pk": session.pk, **kw}), data or {})


def messages_of(client: Client, session: Session) -> str:
    return html_of(client.get(reverse("tutoring:detail", args=[session.pk])))


def test_invited_student_sees_accept_and_decline(client: Client, cast: Cast, frozen: None):
    session = ready(cast, states=[INV], start=NOW + timedelta(days=1))
    html = messages_of(as_user(client, cast.student), session)
    assert "Accept invitation" in html and "Decline invitation" in html
    assert "Cancel session" in html
    assert "Remove" not in html


def test_student_accepts_an_invitation(client: Client, cast: Cast, frozen: None):
    session = ready(cast, states=[INV], start=NOW + timedelta(days=1))
    response = post(as_user(client, cast.student), "accept", session)
    assert response.status_code == 302
    assert response["Location"] == reverse("tutoring:detail", args=[session.pk])
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED
    assert session.participants.get().state == ACC
    html = messages_of(client, session)
    assert "You accepted the invitation." in html
    assert "Accept invitation" not in html


def test_student_declines_an_invitation(client: Client, cast: Cast, frozen: None):
    session = ready(cast, states=[INV], start=NOW + timedelta(days=1))
    post(as_user(client, cast.student), "decline", session)
    session.refresh_from_db()
    assert session.status == Status.DECLINED
    assert "You declined the invitation." in messages_of(client, session)


@pytest.mark.parametrize(
    ("action", "status"), [("accept", Status.SCHEDULED), ("decline", Status.DECLINED)]
)
def test_tutor_answers_a_request(
    client: Client, cast: Cast, frozen: None, action: str, status: str
):
    session = ready(
        cast, status=Status.REQUESTED, origin=Origin.REQUEST, start=NOW + timedelta(days=1)
    )
    assert "Accept request" in messages_of(as_user(client, cast.tutor), session)
    post(client, action, session)
    session.refresh_from_db()
    assert session.status == status
    assert f"You {action.rstrip('e')}ed the request" in messages_of(client, session)


def test_tutor_cancels_with_a_reason(client: Client, cast: Cast, frozen: None):
    session = ready(cast, start=NOW + timedelta(days=1))
    post(as_user(client, cast.tutor), "cancel", session, {"reason": "I am sick today."})
    session.refresh_from_db()
    assert session.status == Status.CANCELED and session.cancel_reason == "I am sick today."
    html = messages_of(client, session)
    assert "The session is canceled; everyone on it has been told why." in html
    assert "Canceled by Tess Tutor: I am sick today." in html


def test_cancel_without_a_reason_changes_nothing(client: Client, cast: Cast, frozen: None):
    session = ready(cast, start=NOW + timedelta(days=1))
    post(as_user(client, cast.tutor), "cancel", session, {"reason": "   "})
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED
    html = messages_of(client, session)
    assert "Say why the session is canceled; everyone on it will see the reason." in html
    assert 'role="alert"' in html


def test_a_student_in_a_group_leaves_rather_than_cancels(client: Client, cast: Cast, frozen: None):
    session = ready(cast, students=[cast.student, cast.student2], start=NOW + timedelta(days=1))
    assert "Leave this session" in messages_of(as_user(client, cast.student), session)
    post(client, "cancel", session, {"reason": "Exam moved."})
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED
    assert session.participants.get(user=cast.student).state == DEC
    assert "You left the session; the others have been told." in messages_of(client, session)


def test_tutor_removes_a_student_who_did_not_come(client: Client, cast: Cast, frozen: None):
    session = ready(cast, students=[cast.student, cast.student2], states=[ACC, INV])
    as_user(client, cast.tutor)
    post(client, "remove_participant", session, user_id=cast.student2.pk)
    assert session.participants.get(user=cast.student2).state == REM
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED
    html = messages_of(client, session)
    assert "Sam Lee was removed from the session." in html
    assert ">Complete Session</a>" in html


def test_a_student_cannot_remove_anyone(client: Client, cast: Cast, frozen: None):
    session = ready(cast, students=[cast.student, cast.student2], states=[ACC, INV])
    response = post(
        as_user(client, cast.student), "remove_participant", session, user_id=cast.student2.pk
    )
    assert response.status_code == 403
    assert "Only the session&#x27;s tutor can remove a participant." in html_of(response)
    assert session.participants.get(user=cast.student2).state == INV


def test_outsiders_cannot_act_on_a_session(client: Client, cast: Cast, frozen: None):
    session = ready(cast, states=[INV], start=NOW + timedelta(days=1))
    assert post(as_user(client, cast.outsider), "accept", session).status_code == 404
    assert (
        post(as_user(client, cast.other_tutor), "cancel", session, {"reason": "x"}).status_code
        == 403
    )
    session.refresh_from_db()
    assert session.status == Status.INVITED


def test_actions_only_take_post(client: Client, cast: Cast):
    session = ready(cast)
    response = as_user(client, cast.tutor).get(reverse("tutoring:accept", args=[session.pk]))
    assert response.status_code == 405


def test_remove_button_for_each_active_participant(client: Client, cast: Cast, frozen: None):
    session = ready(cast, students=[cast.student, cast.student2], states=[ACC, DEC])
    html = messages_of(as_user(client, cast.tutor), session)
    remove = reverse("tutoring:remove_participant", args=[session.pk, cast.student.pk])
    assert f'action="{remove}"' in html
    assert reverse("tutoring:remove_participant", args=[session.pk, cast.student2.pk]) not in html
    assert "Remove Maya Chen from this session?" in html


# -- Complete Session form ----------------------------------------------------------------


def test_completion_form_for_the_tutor(client: Client, cast: Cast, frozen: None):
    session = ready(cast)
    response = as_user(client, cast.tutor).get(reverse("tutoring:complete", args=[session.pk]))
    assert response.status_code == 200
    html = html_of(response)
    select = html[html.index('<select name="minutes"') : html.index("</select>")]
    values = re.findall(r'<option value="(\d+)"', select)
    assert values == [str(m) for m in range(5, 95, 5)]
    assert '<option value="90">1 h 30 min</option>' in select
    assert re.findall(r"<option[^>]*selected", select) == ['<option value="" selected']
    assert "If the real time falls between two choices, round up." in html
    assert "What did you cover?" in html
    for label in ("Topics covered", "How your tutee did", "Next steps", "Time spent"):
        assert re.search(rf"<label for=\"id_\w+\">{label}</label>", html), label
    assert 'data-min-chars="150"' in html
    assert "0 / 150 characters — 150 more needed" in html
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html)
    assert key is not None
    assert ">Log time</button>" in html
    assert "Reason (logged on the tutor" not in html


def test_completion_form_minimum_comes_from_the_organization(
    client: Client, cast: Cast, frozen: None
):
    cast.org.min_recap_chars = 200
    cast.org.save()
    session = ready(cast)
    html = html_of(as_user(client, cast.tutor).get(reverse("tutoring:complete", args=[session.pk])))
    assert 'data-min-chars="200"' in html and "0 / 200 characters — 200 more needed" in html


@pytest.mark.parametrize(
    ("who", "status"), [("student", 403), ("admin", 403), ("other_tutor", 403), ("outsider", 404)]
)
def test_completion_form_is_for_the_tutor_only(client: Client, cast: Cast, who: str, status: int):
    session = ready(cast)
    url = reverse("tutoring:complete", args=[session.pk])
    as_user(client, getattr(cast, who))
    assert client.get(url).status_code == status
    assert client.post(url, complete_form()).status_code == status
    assert not Completion.objects.exists() and not Transfer.objects.exists()


def test_completion_form_needs_sign_in(client: Client, cast: Cast):
    session = ready(cast)
    response = client.post(reverse("tutoring:complete", args=[session.pk]), complete_form())
    assert response.status_code == 302 and not Completion.objects.exists()


def test_too_short_recap_is_refused_and_kept(client: Client, cast: Cast, frozen: None):
    session = ready(cast)
    response = as_user(client, cast.tutor).post(
        reverse("tutoring:complete", args=[session.pk]), complete_form(**SHORT_RECAP)
    )
    assert response.status_code == 422
    html = html_of(response)
    alert = re.search(r'<div class="alert alert--error" role="alert"[^>]*>([^<]+)</div>', html)
    assert alert is not None
    assert alert.group(1).strip() == (
        "Your recap has 41 characters; it needs at least 150 (109 more). "
        "Two complete sentences are usually plenty."
    )
    # Exactly as typed (a textarea's first line break is not part of its value).
    assert ">\nLimiting  reagents.</textarea>" in html
    assert ">\nDid well.</textarea>" in html and ">\nMore practice.</textarea>" in html
    assert '<option value="55" selected>55 min</option>' in html
    assert 'name="idempotency_key" value="key-1"' in html
    assert "41 / 150 characters — 109 more needed" in html
    assert not Completion.objects.exists() and not Transfer.objects.exists()
    session.refresh_from_db()
    assert session.status == Status.SCHEDULED


def test_empty_prompt_is_refused_and_marked(client: Client, cast: Cast, frozen: None):
    session = ready(cast)
    response = as_user(client, cast.tutor).post(
        reverse("tutoring:complete", args=[session.pk]), complete_form(next_steps="  ")
    )
    assert response.status_code == 422
    html = html_of(response)
    assert "Answer every recap prompt; “Next steps” is empty." in html
    assert re.search(r'<textarea name="next_steps"[^>]*aria-invalid="true"', html)
    assert html.count("Answer this prompt.") == 1
    assert not Completion.objects.exists()


@pytest.mark.parametrize("minutes", ["", "abc", "55.5", "95", "4", "-5", "1e3", "9" * 50, "٥٥"])
def test_odd_durations_are_refused_with_words(
    client: Client, cast: Cast, frozen: None, minutes: str
):
    session = ready(cast)
    response = as_user(client, cast.tutor).post(
        reverse("tutoring:complete", args=[session.pk]), complete_form(minutes=minutes)
    )
    assert response.status_code == 422
    assert "must be one of 5, 10, 15 … 90 minutes" in html_of(response)
    assert "Choose one of the listed times." in html_of(response)
    assert not Completion.objects.exists() and not Transfer.objects.exists()


def test_control_characters_are_refused_with_words(client: Client, cast: Cast, frozen: None):
    session = ready(cast)
    url = reverse("tutoring:complete", args=[session.pk])
    as_user(client, cast.tutor)
    bell = client.post(url, complete_form(topics_covered=f.GOOD_RECAP["topics_covered"] + "\x07"))
    assert bell.status_code == 400
    assert "Topics covered contains an invisible control character" in html_of(bell)
    nul = client.post(url, complete_form(next_steps="a\x00b"))
    assert nul.status_code == 400
    assert "Null characters are not allowed." in html_of(nul)
    assert not Completion.objects.exists()


def test_valid_completion_pays_the_tutor(client: Client, cast: Cast, frozen: None):
    session = ready(cast)
    response = as_user(client, cast.tutor).post(
        reverse("tutoring:complete", args=[session.pk]), complete_form()
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("tutoring:detail", args=[session.pk])
    completion = Completion.objects.get(session=session)
    assert completion.minutes == 55 and completion.idempotency_key == "key-1"
    assert [m.cents for m in balances_of(cast.tutor)] == [1375]  # $15.00/h × 55 min
    html = messages_of(client, session)
    assert "Session completed — $13.75 deposited to your Studyhall account." in html
    assert '<span class="badge badge--completed">Completed</span>' in html
    assert "55 min" in html and "$13.75" in html
    assert f.GOOD_RECAP["tutee_progress"] in html
    # The header shows the new balance.
    assert re.search(r'class="site-balance".*\$13\.75', html, re.S)


def test_double_submit_completes_and_pays_once(client: Client, cast: Cast, frozen: None):
    f.set_rate(cast.org, cast.tutor, 1799)
    session = ready(cast)
    url = reverse("tutoring:complete", args=[session.pk])
    as_user(client, cast.tutor)
    first = client.post(url, complete_form(minutes="25"))
    second = client.post(url, complete_form(minutes="25"))
    assert first.status_code == second.status_code == 302
    assert Completion.objects.count() == 1 and Transfer.objects.count() == 1
    assert [m.cents for m in balances_of(cast.tutor)] == [750]  # $17.99 × 25 min
    assert messages_of(client, session).count("$7.50 deposited") == 2


def test_second_completion_with_another_key_is_told_it_is_done(
    client: Client, cast: Cast, frozen: None
):
    session = ready(cast)
    url = reverse("tutoring:complete", args=[session.pk])
    as_user(client, cast.tutor)
    client.post(url, complete_form())
    response = client.post(url, complete_form(idempotency_key="key-2"))
    assert response.status_code == 302
    assert "This session has already been completed (55 min logged)." in messages_of(
        client, session
    )
    assert Transfer.objects.count() == 1


def test_completion_form_of_a_completed_session_leads_to_it(
    client: Client, cast: Cast, frozen: None
):
    session = ready(cast)
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=30, recap=f.GOOD_RECAP)
    response = as_user(client, cast.tutor).get(reverse("tutoring:complete", args=[session.pk]))
    assert response.status_code == 302
    assert "already completed" in messages_of(client, session)


def test_completion_form_explains_what_blocks_it(client: Client, cast: Cast):
    with time_machine.travel(NOW - timedelta(hours=81), tick=False):
        session = ready(cast, start=NOW - timedelta(hours=81))
    url = reverse("tutoring:complete", args=[session.pk])
    as_user(client, cast.tutor)
    with time_machine.travel(NOW, tick=False):
        page = client.get(url)
        # The service still has the last word on a submission.
        refused = client.post(url, complete_form())
    assert page.status_code == 200
    assert "Logging closed 8 hours ago" in html_of(page) and "Log time" not in html_of(page)
    assert refused.status_code == 422
    assert "Logging closed 8 hours ago" in html_of(refused)
    assert not Completion.objects.exists()


def test_support_agent_logs_a_late_session_with_a_reason(client: Client, cast: Cast):
    with time_machine.travel(NOW - timedelta(hours=81), tick=False):
        session = ready(cast, start=NOW - timedelta(hours=81))
    url = reverse("tutoring:complete", args=[session.pk])
    as_user(client, cast.agent)
    with time_machine.travel(NOW, tick=False):
        form = html_of(client.get(url))
        missing = client.post(url, complete_form())
        done = client.post(url, complete_form(on_behalf_reason="Tutor was in hospital."))
    assert "Reason (logged on the tutor&#x27;s behalf)" in form
    assert missing.status_code == 400
    assert "Give the reason you are logging this session on the tutor&#x27;s behalf." in html_of(
        missing
    )
    assert done.status_code == 302
    completion = Completion.objects.get(session=session)
    assert completion.completed_by == cast.agent
    assert completion.on_behalf_reason == "Tutor was in hospital."
    assert "Session completed for Tess Tutor — $13.75 deposited to their Studyhall account." in (
        messages_of(client, session)
    )


def test_completion_over_htmx_swaps_the_form_or_redirects(client: Client, cast: Cast, frozen: None):
    session = ready(cast)
    url = reverse("tutoring:complete", args=[session.pk])
    as_user(client, cast.tutor)
    htmx = {"HX-Request": "true"}
    refused = client.post(url, complete_form(**SHORT_RECAP), headers=htmx)
    assert refused.status_code == 422
    assert html_of(refused).lstrip().startswith('<form method="post"')
    assert "<html" not in html_of(refused) and "it needs at least 150" in html_of(refused)
    done = client.post(url, complete_form(), headers=htmx)
    assert done.status_code == 200
    assert done["HX-Redirect"] == reverse("tutoring:detail", args=[session.pk])
    assert Completion.objects.count() == 1


# -- Emails ---------------------------------------------------------------------------------


def test_recap_email_shows_the_prompts_answers_and_time(cast: Cast, frozen: None):
    session = ready(cast)
    complete_session(session_id=session.pk, actor=cast.tutor, minutes=55, recap=f.GOOD_RECAP)
    mail.outbox.clear()
    assert send_recap_to_students(session.pk) == 1
    message = mail.outbox[0]
    assert isinstance(message, EmailMultiAlternatives)
    assert message.to == ["maya@example.test"]
    html = str(message.alternatives[0][0])
    for body in (message.body, html):
        assert "Hi Maya," in body
        assert "Tess Tutor logged your CHEM 110 session of Thu, Nov 20, 2:00 PM UTC: 55 min." in (
            body.replace("<strong>", "").replace("</strong>", "")
        )
        for prompt in ("Topics covered", "How your tutee did", "Next steps"):
            assert prompt in body
    for answer in f.GOOD_RECAP.values():
        assert answer in message.body


def test_session_event_email_says_who_did_what(cast: Cast, frozen: None):
    session = ready(cast, students=[cast.student, cast.student2], states=[ACC, REM])
    mail.outbox.clear()
    # Only the removed student hears about their removal.
    assert (
        send_session_event(session.pk, "removed", cast.tutor.pk, only_user_id=cast.student2.pk) == 1
    )
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert list(bodies) == ["sam@example.test"]
    assert "Tess Tutor removed you from the CHEM 110 session." in bodies["sam@example.test"]
    assert "Where: Library room 2" in bodies["sam@example.test"]
    assert "When: Thu, Nov 20, 2:00 PM UTC (1 h)" in bodies["sam@example.test"]
    # Later news goes to those still on the session, not to Sam.
    mail.outbox.clear()
    send_session_event(session.pk, "canceled", cast.tutor.pk)
    assert [m.to[0] for m in mail.outbox] == ["maya@example.test"]


# -- Layout and sign-in pages -------------------------------------------------------------


def test_header_has_the_brand_nav_user_and_sign_out(client: Client, cast: Cast, frozen: None):
    html = html_of(as_user(client, cast.tutor).get(reverse("tutoring:sessions")))
    header = html[html.index("<header") : html.index("</header>")]
    assert ">Studyhall</a>" in header
    assert f'href="{reverse("tutoring:sessions")}" aria-current="page">Sessions</a>' in header
    assert f'href="{reverse("ledger:transactions")}">Transaction history</a>' in header
    assert "Tess Tutor" in header
    assert re.search(rf'<form method="post" action="{reverse("account_logout")}"', header)
    # A tutor who has not earned yet sees a zero balance; a student sees none.
    assert "$0.00" in header
    student_html = html_of(as_user(client, cast.student).get(reverse("tutoring:sessions")))
    assert "site-balance" not in student_html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html and "htmx-2.min.js" in html


@pytest.mark.parametrize(
    "name", ["account_login", "account_reset_password", "account_reset_password_done"]
)
def test_sign_in_pages_use_the_layout(client: Client, db: None, name: str):
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = html_of(response)
    assert ">Studyhall</a>" in html and "studyhall.css" in html
    assert "Transaction history" not in html  # signed out: no nav


def test_sign_in_and_out(client: Client, cast: Cast):
    page = html_of(client.get(reverse("account_login")))
    assert '<label for="id_login">' in page and '<label for="id_password">' in page
    response = client.post(
        reverse("account_login"), {"login": "tutor@example.test", "password": f.PASSWORD}
    )
    # Sign-in lands on "/", which sends a tutor on to their sessions (and an admin to the console).
    assert response.status_code == 302 and response["Location"] == reverse("landing")
    assert client.get(response["Location"])["Location"] == reverse("tutoring:sessions")
    assert "Are you sure you want to sign out" in html_of(client.get(reverse("account_logout")))
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get(reverse("tutoring:sessions")).status_code == 302


def test_password_reset_from_a_bad_key(client: Client, db: None):
    response = client.get(reverse("account_reset_password_from_key", args=["x", "bad-key"]))
    assert response.status_code == 200
    assert "This link no longer works" in html_of(response)
