"""The classroom's pages: who gets in, the Join button's window on the session page, "Log time &
leave call", the measured-time suggestion and the over-logging flag."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client
from django.urls import reverse

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.calls import services
from studyhall.calls.broadcast import room
from studyhall.calls.models import CallEvent, Connection, EventKind
from studyhall.core.models import AuditEntry
from studyhall.ledger.models import Transfer
from studyhall.testing import factories as f
from studyhall.testing.tasks import run_queued_tasks
from studyhall.tutoring import selectors as tutoring_selectors
from studyhall.tutoring.models import Completion, Mode, ParticipantState, Session, Status
from studyhall.tutoring.services.completion import complete_session
from studyhall.tutoring.services.scheduling import remove_participant

NOW = datetime(2025, 11, 20, 15, 0, tzinfo=UTC)  # 10:00 AM in New York
TUTOR_PEER = "tutor-peer-0001"
MAYA_PEER = "maya-peer-0001"
SHORT_RECAP = {"topics_covered": "Loops.", "tutee_progress": "Fine.", "next_steps": "More."}


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cast(cast: Cast) -> Cast:
    """The shared personas, in New York like their organization."""
    for user in (cast.tutor, cast.student, cast.student2):
        user.time_zone = "America/New_York"
        user.save(update_fields=["time_zone"])
    return cast


def online_session(cast: Cast, *, start: datetime = NOW, **kwargs: Any) -> Session:
    """Online, Maya accepted and Sam still invited (unless `states` says otherwise)."""
    defaults: dict[str, Any] = {
        "org": cast.org,
        "tutor": cast.tutor,
        "students": [cast.student, cast.student2],
        "states": [ParticipantState.ACCEPTED, ParticipantState.INVITED],
        "mode": Mode.ONLINE,
        "start": start,
        "minutes": 60,
    }
    return f.make_session(**(defaults | kwargs))


def as_user(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def html_of(response: Any) -> str:
    return response.content.decode()


def join(session: Session, user: User, peer: str) -> None:
    services.join(session_id=session.pk, user=user, peer_id=peer, channel_name=f"ch.{peer}")


def classroom_url(session: Session) -> str:
    return reverse("calls:classroom", args=[session.pk])


def details_url(session: Session) -> str:
    return reverse("tutoring:detail", args=[session.pk])


# -- The classroom page ----------------------------------------------------------------------


def test_the_tutor_gets_the_classroom_with_both_ways_to_leave(
    client: Client, cast: Cast, frozen: None
) -> None:
    session = online_session(cast)
    response = as_user(client, cast.tutor).get(classroom_url(session))
    assert response.status_code == 200
    html = html_of(response)
    found = re.search(r'<script id="classroom-config" type="application/json">(.*?)</script>', html)
    assert found is not None
    config = json.loads(found[1])
    assert config == {
        "sessionId": session.pk,
        "socketPath": f"/ws/sessions/{session.pk}/classroom/",
        "detailsUrl": details_url(session),
        "completeUrl": reverse("calls:complete", args=[session.pk]),
        "suggestionUrl": reverse("calls:suggestion", args=[session.pk]),
        "isTutor": True,
        "userId": cast.tutor.pk,
        "timeZone": "America/New_York",
        # Sam has not accepted, so he does not belong in the call.
        "expected": [
            {"user_id": cast.tutor.pk, "name": "Tess Tutor", "role": "tutor"},
            {"user_id": cast.student.pk, "name": "Maya Chen", "role": "student"},
        ],
        "captionMaxChars": 500,
    }
    assert 'type="module" src="/static/calls/classroom.js"' in html
    assert ">Leave call</button>" in html
    assert ">Log time &amp; leave call</button>" in html
    dialog = html[html.index('<dialog class="log-dialog"') : html.index("</dialog>")]
    select = dialog[dialog.index('<select name="minutes"') : dialog.index("</select>")]
    assert re.findall(r'<option value="(\d+)"', select) == [str(m) for m in range(5, 95, 5)]
    assert re.findall(r"<option[^>]*selected", select) == ['<option value="" selected']
    for key, label in (
        ("topics_covered", "Topics covered"),
        ("tutee_progress", "How your tutee did"),
        ("next_steps", "Next steps"),
    ):
        assert f'<label for="log-{key}">{label}</label>' in dialog
        assert f'name="{key}"' in dialog
    assert 'data-min-chars="150"' in dialog
    assert "0 / 150 characters — 150 more needed" in dialog
    assert re.search(r'name="idempotency_key" value="[0-9a-f]{32}"', dialog)
    assert 'name="csrfmiddlewaretoken"' in dialog
    assert '<script src="/static/js/recap-count.js" defer></script>' in html


def test_an_accepted_student_gets_the_classroom_with_leave_call_only(
    client: Client, cast: Cast, frozen: None
) -> None:
    session = online_session(cast)
    response = as_user(client, cast.student).get(classroom_url(session))
    assert response.status_code == 200
    html = html_of(response)
    assert ">Leave call</button>" in html
    assert "Log time" not in html and "<dialog" not in html
    assert '"completeUrl": null' in html and '"isTutor": false' in html


@pytest.mark.parametrize(
    ("who", "message", "back"),
    [
        (
            "student2",
            "Only the tutor and students who accepted the session can join its classroom.",
            "details",
        ),
        (
            "admin",
            "Only the tutor and students who accepted the session can join its classroom.",
            "details",
        ),
        ("other_tutor", "You are not part of this session.", "sessions"),
    ],
)
def test_others_in_the_organization_get_a_page_saying_why(
    client: Client, cast: Cast, frozen: None, who: str, message: str, back: str
) -> None:
    session = online_session(cast)
    response = as_user(client, getattr(cast, who)).get(classroom_url(session))
    assert response.status_code == 403
    html = html_of(response)
    assert message in html
    link = details_url(session) if back == "details" else reverse("tutoring:sessions")
    assert f'href="{link}"' in html
    assert "classroom-config" not in html


def test_a_removed_student_is_refused(client: Client, cast: Cast, frozen: None) -> None:
    session = online_session(cast)
    remove_participant(session_id=session.pk, actor=cast.tutor, user_id=cast.student.pk)
    response = as_user(client, cast.student).get(classroom_url(session))
    assert response.status_code == 403
    assert "Only the tutor and students who accepted" in html_of(response)


def test_outside_the_organization_there_is_no_classroom(
    client: Client, cast: Cast, frozen: None
) -> None:
    session = online_session(cast)
    assert as_user(client, cast.outsider).get(classroom_url(session)).status_code == 404
    assert as_user(client, cast.tutor).get("/sessions/999999/classroom/").status_code == 404


def test_an_in_person_session_has_no_classroom(client: Client, cast: Cast, frozen: None) -> None:
    session = online_session(cast, mode=Mode.IN_PERSON)
    response = as_user(client, cast.tutor).get(classroom_url(session))
    assert response.status_code == 403
    assert "This session meets in person; it has no online classroom." in html_of(response)


def test_the_classroom_needs_sign_in(client: Client, cast: Cast, frozen: None) -> None:
    session = online_session(cast)
    response = client.get(classroom_url(session))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_classroom_opens_fifteen_minutes_before_the_start(client: Client, cast: Cast) -> None:
    session = online_session(cast, start=NOW + timedelta(minutes=15))
    as_user(client, cast.student)
    with time_machine.travel(NOW - timedelta(seconds=1), tick=False):
        early = client.get(classroom_url(session))
    assert early.status_code == 403
    assert (
        "The classroom opens 15 minutes before the start, on Thu, Nov 20 at 10:00 AM EST."
        in html_of(early)
    )
    with time_machine.travel(NOW, tick=False):
        assert client.get(classroom_url(session)).status_code == 200


# -- The Join button on the session page -----------------------------------------------------


def entry_of(client: Client, session: Session) -> str:
    html = html_of(client.get(details_url(session)))
    if 'id="classroom-entry"' not in html:
        return ""
    start = html.index('id="classroom-entry"')
    return html[start : html.index("</section>", start)]


def test_join_button_shows_exactly_while_the_classroom_is_open(client: Client, cast: Cast) -> None:
    start = NOW + timedelta(hours=1)
    session = online_session(cast, start=start)
    join_link = (
        f'<a class="button button--primary" href="{classroom_url(session)}">'
        "Join online classroom</a>"
    )
    for who in (cast.tutor, cast.student):
        as_user(client, who)
        with time_machine.travel(start - timedelta(minutes=15, seconds=1), tick=False):
            entry = entry_of(client, session)
            assert "Join online classroom" not in entry
            assert (
                "The classroom opens 15 minutes before the start, "
                '<time datetime="2025-11-20T15:45:00+00:00">on Thu, Nov 20 at 10:45 AM EST</time>.'
                in entry
            )
        with time_machine.travel(start - timedelta(minutes=15), tick=False):
            assert join_link in entry_of(client, session)
        # Open until 90 minutes after the scheduled end (policy), not until logging closes.
        closes = start + timedelta(minutes=60 + 90)
        with time_machine.travel(closes, tick=False):
            assert join_link in entry_of(client, session)
        with time_machine.travel(closes + timedelta(seconds=1), tick=False):
            entry = entry_of(client, session)
            assert "Join online classroom" not in entry
            assert (
                "This session&#x27;s classroom closed "
                '<time datetime="2025-11-20T18:30:00+00:00">on Thu, Nov 20 at 1:30 PM EST</time>, '
                "90 minutes after the scheduled end." in entry
            )


def test_join_button_is_only_for_the_tutor_and_accepted_students(
    client: Client, cast: Cast, frozen: None
) -> None:
    session = online_session(cast)
    for who in (cast.student2, cast.admin, cast.agent):
        assert entry_of(as_user(client, who), session) == "", who
    in_person = online_session(cast, mode=Mode.IN_PERSON)
    assert entry_of(as_user(client, cast.tutor), in_person) == ""


def test_a_completed_session_says_its_classroom_is_closed(
    client: Client, cast: Cast, frozen: None
) -> None:
    session = online_session(
        cast,
        start=NOW - timedelta(hours=1),
        students=[cast.student],
        states=[ParticipantState.ACCEPTED],
    )
    complete_session(
        session_id=session.pk, actor=cast.tutor, minutes=55, recap=f.GOOD_RECAP, confirm_time=True
    )
    entry = entry_of(as_user(client, cast.student), session)
    assert "Join online classroom" not in entry
    assert "This session is completed; its classroom is closed." in entry


# -- Log time & leave call -------------------------------------------------------------------


@pytest.fixture
def in_call(cast: Cast) -> Session:
    """An online session that began 40 minutes ago; the tutor and Maya are in its call."""
    session = online_session(
        cast,
        start=NOW - timedelta(minutes=40),
        students=[cast.student],
        states=[ParticipantState.ACCEPTED],
    )
    with time_machine.travel(NOW - timedelta(minutes=39), tick=False):
        join(session, cast.tutor, TUTOR_PEER)
        join(session, cast.student, MAYA_PEER)
    Connection.objects.update(last_seen_at=NOW)  # both kept heartbeating
    return session


def log_form(**overrides: str) -> dict[str, str]:
    return {"minutes": "40", **f.GOOD_RECAP, "idempotency_key": "call-key-1"} | overrides


def post_log(client: Client, session: Session, data: dict[str, str]) -> Any:
    return client.post(reverse("calls:complete", args=[session.pk]), data)


async def nothing_arrives(layer: Any, channel: str) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), timeout=0.2)
    except TimeoutError:
        return True
    return False


def listen_to_the_room(session: Session) -> tuple[Any, str]:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(room(session.pk), channel)
    return layer, channel


def test_log_time_and_leave_call_completes_and_ends_the_call(
    client: Client,
    cast: Cast,
    in_call: Session,
    frozen: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    session = in_call
    session.refresh_from_db()
    assert session.status == Status.IN_PROGRESS
    layer, channel = listen_to_the_room(session)
    # The call is announced as ended only once the completion has committed.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_log(as_user(client, cast.tutor), session, log_form())
    run_queued_tasks()
    assert async_to_sync(nothing_arrives)(layer, channel)
    for callback in callbacks:
        callback()

    assert response.status_code == 200
    assert response.json() == {
        "redirect": details_url(session),
        "message": "Session completed — $10.00 deposited to your Studyhall account.",
    }
    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    assert session.call_ended_at == NOW
    completion = Completion.objects.get(session=session)
    assert (completion.minutes, completion.idempotency_key) == (40, "call-key-1")
    assert completion.measured_seconds == 39 * 60 and completion.overlogged is False
    assert Transfer.objects.get().amount_cents == 1000
    # Everyone left the call at once; whoever is still connected is told it ended.
    assert Connection.objects.count() == 0
    left = CallEvent.objects.filter(kind=EventKind.LEFT, at=NOW)
    assert sorted(left.values_list("peer_id", flat=True)) == [MAYA_PEER, TUTOR_PEER]
    assert async_to_sync(layer.receive)(channel) == {
        "type": "deliver.ended",
        "message": "The tutor completed the session.",
    }
    # The session page says so too.
    page = html_of(client.get(details_url(session)))
    assert "Session completed — $10.00 deposited to your Studyhall account." in page


def test_a_double_submit_completes_and_pays_once(
    client: Client, cast: Cast, in_call: Session, frozen: None
) -> None:
    as_user(client, cast.tutor)
    first = post_log(client, in_call, log_form())
    again = post_log(client, in_call, log_form())
    assert first.status_code == again.status_code == 200
    assert again.json()["redirect"] == details_url(in_call)
    assert Completion.objects.count() == 1 and Transfer.objects.count() == 1


def assert_nothing_written(session: Session) -> None:
    session.refresh_from_db()
    assert session.status == Status.IN_PROGRESS
    assert session.call_ended_at is None
    assert not Completion.objects.exists() and not Transfer.objects.exists()
    assert Connection.objects.count() == 2
    assert not CallEvent.objects.filter(kind=EventKind.LEFT).exists()


@pytest.mark.parametrize(
    ("data", "status", "code", "message", "fields"),
    [
        (
            log_form(**SHORT_RECAP),
            422,
            "recap_too_short",
            "Your recap has 16 characters; it needs at least 150 (134 more). Two complete "
            "sentences are usually plenty.",
            [],
        ),
        (
            log_form(next_steps="  "),
            422,
            "recap_incomplete",
            "Answer every recap prompt; “Next steps” is empty.",
            ["next_steps"],
        ),
        (
            log_form(minutes="95"),
            422,
            "invalid_duration",
            "The time spent must be one of 5, 10, 15 … 90 minutes (5-minute steps, at most 1 h "
            "30 min); 95 is not. If the real time falls between two choices, round up.",
            ["minutes"],
        ),
        (
            log_form(tutee_progress="Fine\x07."),
            400,
            "invalid_input",
            "How your tutee did contains an invisible control character; remove it and try again.",
            ["tutee_progress"],
        ),
        (
            # Read by the Complete Session form, as on the page: a NUL is unreadable input.
            log_form(tutee_progress="Fine\x00."),
            400,
            "invalid_input",
            "Some answers could not be read. How your tutee did: Null characters are not allowed.",
            ["tutee_progress"],
        ),
    ],
)
def test_a_refusal_answers_why_and_writes_nothing(
    client: Client,
    cast: Cast,
    in_call: Session,
    frozen: None,
    data: dict[str, str],
    status: int,
    code: str,
    message: str,
    fields: list[str],
) -> None:
    response = post_log(as_user(client, cast.tutor), in_call, data)
    assert (response.status_code, response["Content-Type"]) == (status, "application/problem+json")
    body = response.json()
    assert {key: body[key] for key in ("type", "status", "code", "detail", "fields")} == {
        "type": f"https://studyhall.dev/problems/{code}",
        "status": status,
        "code": code,
        "detail": message,
        "fields": fields,
    }
    assert_nothing_written(in_call)


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("student", 403, "forbidden"), ("admin", 403, "forbidden"), ("outsider", 404, "not_found")],
)
def test_only_the_tutor_logs_from_the_call(
    client: Client, cast: Cast, in_call: Session, frozen: None, who: str, status: int, code: str
) -> None:
    response = post_log(as_user(client, getattr(cast, who)), in_call, log_form())
    assert response.status_code == status
    assert response.json()["code"] == code
    assert_nothing_written(in_call)


def test_the_log_endpoint_takes_a_signed_in_post(
    client: Client, cast: Cast, in_call: Session, frozen: None
) -> None:
    signed_out = post_log(client, in_call, log_form())
    assert signed_out.status_code == 401
    assert signed_out.json()["code"] == "signed_out"
    url = reverse("calls:complete", args=[in_call.pk])
    assert as_user(client, cast.tutor).get(url).status_code == 405
    assert_nothing_written(in_call)


def test_an_already_completed_session_points_to_its_page(
    client: Client, cast: Cast, in_call: Session, frozen: None
) -> None:
    as_user(client, cast.tutor)
    post_log(client, in_call, log_form())
    again = post_log(client, in_call, log_form(idempotency_key="another-tab"))
    assert again.status_code == 409
    assert again.json() == {
        "type": "https://studyhall.dev/problems/already_completed",
        "title": "Conflicts with the current state",
        "status": 409,
        "code": "already_completed",
        "detail": "This session has already been completed (40 min logged).",
        "fields": [],
        "redirect": details_url(in_call),
    }
    assert Completion.objects.count() == 1


# -- Measured time: the suggestion and the flag ----------------------------------------------


@pytest.fixture
def met_for_38_minutes(cast: Cast) -> Session:
    """Began an hour ago; the tutor and Maya were in the call together for 38 minutes."""
    session = online_session(
        cast,
        start=NOW - timedelta(hours=1),
        students=[cast.student],
        states=[ParticipantState.ACCEPTED],
    )
    begin = NOW - timedelta(minutes=50)
    with time_machine.travel(begin, tick=False):
        join(session, cast.tutor, TUTOR_PEER)
    with time_machine.travel(begin + timedelta(minutes=3), tick=False):
        Connection.objects.update(last_seen_at=begin + timedelta(minutes=3))
        join(session, cast.student, MAYA_PEER)
    with time_machine.travel(begin + timedelta(minutes=41), tick=False):
        Connection.objects.update(last_seen_at=begin + timedelta(minutes=41))
        services.leave(peer_id=MAYA_PEER)
        services.leave(peer_id=TUTOR_PEER)
    return session


HINT = "Measured in the classroom: 38 min together — suggested 40 min."


def selected_minutes(html: str, select_start: str) -> list[str]:
    select = html[html.index(select_start) : html.index("</select>", html.index(select_start))]
    return re.findall(r'<option value="(\d*)"[^>]*selected', select)


def test_the_suggestion_rounds_the_measured_time_up(
    cast: Cast, met_for_38_minutes: Session, frozen: None
) -> None:
    found = tutoring_selectors.time_suggestion(met_for_38_minutes)
    assert found is not None
    assert (found.measured_seconds, found.minutes, found.hint) == (38 * 60, 40, HINT)
    assert getattr(tutoring_selectors.time_suggestion(met_for_38_minutes), "minutes", None) == 40


def test_no_suggestion_without_time_together(cast: Cast, frozen: None) -> None:
    session = online_session(cast)
    assert getattr(tutoring_selectors.time_suggestion(session), "minutes", None) is None
    with time_machine.travel(NOW - timedelta(minutes=5), tick=False):
        join(session, cast.tutor, TUTOR_PEER)  # alone: nothing measured together
    assert getattr(tutoring_selectors.time_suggestion(session), "minutes", None) is None


def test_complete_session_form_is_prefilled_with_the_suggestion(
    client: Client, cast: Cast, met_for_38_minutes: Session, frozen: None
) -> None:
    url = reverse("tutoring:complete", args=[met_for_38_minutes.pk])
    html = html_of(as_user(client, cast.tutor).get(url))
    assert selected_minutes(html, '<select name="minutes"') == ["40"]
    assert f'<p class="hint" id="measured-hint">{HINT}</p>' in html


def test_complete_session_form_without_a_measurement(
    client: Client, cast: Cast, frozen: None
) -> None:
    session = online_session(
        cast,
        start=NOW - timedelta(hours=1),
        students=[cast.student],
        states=[ParticipantState.ACCEPTED],
    )
    html = html_of(as_user(client, cast.tutor).get(reverse("tutoring:complete", args=[session.pk])))
    assert selected_minutes(html, '<select name="minutes"') == [""]
    assert "Measured in the classroom" not in html


def test_the_classroom_pop_up_is_prefilled_with_the_suggestion(
    client: Client, cast: Cast, met_for_38_minutes: Session, frozen: None
) -> None:
    as_user(client, cast.tutor)
    html = html_of(client.get(classroom_url(met_for_38_minutes)))
    # The Complete Session form itself, with the classroom's ids.
    assert selected_minutes(html, '<select name="minutes"') == ["40"]
    assert 'id="log-minutes"' in html
    assert f'<p class="hint" id="measured-hint">{HINT}</p>' in html
    # As the pop-up opens it asks again, since the call has gone on since the page loaded.
    suggestion = client.get(reverse("calls:suggestion", args=[met_for_38_minutes.pk]))
    assert suggestion.json() == {"minutes": 40, "hint": HINT}


def test_the_suggestion_is_for_the_tutor(
    client: Client, cast: Cast, met_for_38_minutes: Session, frozen: None
) -> None:
    url = reverse("calls:suggestion", args=[met_for_38_minutes.pk])
    assert as_user(client, cast.student).get(url).status_code == 403
    assert as_user(client, cast.outsider).get(url).status_code == 404
    fresh = online_session(cast)
    tutor = as_user(client, cast.tutor)
    assert tutor.get(reverse("calls:suggestion", args=[fresh.pk])).json() == {
        "minutes": None,
        "hint": "",
    }


FLAG = "Flagged for review: 1 h logged, 38 min measured in the classroom."


def test_overlogging_is_flagged_for_the_admin_support_and_tutor(
    client: Client, cast: Cast, met_for_38_minutes: Session, frozen: None
) -> None:
    complete_session(
        session_id=met_for_38_minutes.pk,
        actor=cast.tutor,
        minutes=60,
        recap=f.GOOD_RECAP,
        confirm_time=True,
    )
    url = details_url(met_for_38_minutes)
    for who in (cast.admin, cast.agent, cast.tutor):
        html = html_of(as_user(client, who).get(url))
        assert f'<p class="alert alert--warning" id="overlog-flag">{FLAG}</p>' in html, who
    assert "Flagged for review" not in html_of(as_user(client, cast.student).get(url))


def test_within_fifteen_minutes_of_the_measured_time_is_not_flagged(
    client: Client, cast: Cast, met_for_38_minutes: Session, frozen: None
) -> None:
    complete_session(
        session_id=met_for_38_minutes.pk, actor=cast.tutor, minutes=50, recap=f.GOOD_RECAP
    )
    assert Completion.objects.get().overlogged is False
    html = html_of(as_user(client, cast.admin).get(details_url(met_for_38_minutes)))
    assert "Flagged for review" not in html


# -- Measured time: the tutor confirms a time well above it, before anything is written -------

OVER_38 = (
    "You are logging 1 h, but the classroom measured 38 min with you and a student together. "
    "If your time is right, confirm it and log it again: the session will be flagged for your "
    "program to review."
)
CONFIRM_BOX = re.compile(r'<div class="field field--confirm" id="confirm-time"( hidden)?>')


def assert_not_completed(session: Session) -> None:
    session.refresh_from_db()
    assert session.status != Status.COMPLETED
    assert not Completion.objects.exists() and not Transfer.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="session.completed").exists()


def test_the_page_asks_to_confirm_a_time_well_above_the_measured(
    client: Client, cast: Cast, met_for_38_minutes: Session, frozen: None
) -> None:
    url = reverse("tutoring:complete", args=[met_for_38_minutes.pk])
    tutor = as_user(client, cast.tutor)
    first = html_of(tutor.get(url))
    # Nothing to confirm before the time is chosen: the checkbox waits, hidden.
    assert CONFIRM_BOX.search(first)[1] == " hidden"  # type: ignore[index]

    asked = tutor.post(url, log_form(minutes="60", idempotency_key="page-key"))
    assert asked.status_code == 422
    html = html_of(asked)
    assert (
        '<div class="alert alert--warning" role="alert" id="completion-error" tabindex="-1" '
        f"autofocus>{OVER_38}"
    ) in html
    assert CONFIRM_BOX.search(html)[1] is None  # type: ignore[index]
    assert "The time I chose is right: log it anyway" in html
    assert "Tick this if the time you chose is right." in html
    assert f'<p class="hint" id="measured-hint">{HINT}</p>' in html
    assert_not_completed(met_for_38_minutes)

    confirmed = tutor.post(
        url, log_form(minutes="60", idempotency_key="page-key", confirm_time="on")
    )
    assert confirmed.status_code == 302
    completion = Completion.objects.get()
    assert (completion.minutes, completion.measured_seconds, completion.overlogged) == (
        60,
        38 * 60,
        True,
    )
    entry = AuditEntry.objects.get(action="session.completed")
    assert entry.data["confirmed"] == "confirm_over_measured"


def test_a_time_within_the_tolerance_is_not_questioned(
    client: Client, cast: Cast, met_for_38_minutes: Session, frozen: None
) -> None:
    url = reverse("tutoring:complete", args=[met_for_38_minutes.pk])
    response = as_user(client, cast.tutor).post(url, log_form(minutes="50"))
    assert response.status_code == 302
    assert Completion.objects.get().overlogged is False
    assert AuditEntry.objects.get(action="session.completed").data["confirmed"] is None


def test_the_pop_up_asks_to_confirm_as_the_api_does(
    client: Client, cast: Cast, met_for_38_minutes: Session, frozen: None
) -> None:
    tutor = as_user(client, cast.tutor)
    asked = post_log(tutor, met_for_38_minutes, log_form(minutes="60"))
    assert (asked.status_code, asked["Content-Type"]) == (422, "application/problem+json")
    assert asked.json() == {
        "type": "https://studyhall.dev/problems/confirm_over_measured",
        "title": "Not allowed by the session rules",
        "status": 422,
        "code": "confirm_over_measured",
        "detail": OVER_38,
        "minutes": 60,
        "measured_seconds": 38 * 60,
        "fields": ["confirm_time"],
    }
    assert_not_completed(met_for_38_minutes)
    # The pop-up carries the same checkbox, hidden until the script shows it.
    page = html_of(tutor.get(classroom_url(met_for_38_minutes)))
    assert CONFIRM_BOX.search(page)[1] == " hidden"  # type: ignore[index]
    assert 'id="log-confirm_time"' in page

    confirmed = post_log(tutor, met_for_38_minutes, log_form(minutes="60", confirm_time="on"))
    assert confirmed.status_code == 200
    assert Completion.objects.get().overlogged is True


def test_an_online_session_with_nothing_measured_is_confirmed_first(
    client: Client, cast: Cast, frozen: None
) -> None:
    session = online_session(
        cast,
        start=NOW - timedelta(hours=1),
        students=[cast.student],
        states=[ParticipantState.ACCEPTED],
    )
    url = reverse("tutoring:complete", args=[session.pk])
    asked = as_user(client, cast.tutor).post(url, log_form(minutes="45"))
    assert asked.status_code == 422
    assert (
        "The classroom measured no time with you and a student together, yet you are logging "
        "45 min. If you met anyway (by phone, say), confirm the time and log it again: the "
        "session will be flagged for your program to review."
    ) in html_of(asked)
    assert_not_completed(session)

    assert client.post(url, log_form(minutes="45", confirm_time="on")).status_code == 302
    completion = Completion.objects.get()
    assert (completion.measured_seconds, completion.overlogged) == (None, False)
    flag = "Flagged for review: 45 min logged, nothing measured in the classroom."
    html = html_of(as_user(client, cast.admin).get(details_url(session)))
    assert f'<p class="alert alert--warning" id="overlog-flag">{flag}</p>' in html


def test_support_logging_for_the_tutor_is_not_asked_to_confirm(
    cast: Cast, met_for_38_minutes: Session, frozen: None
) -> None:
    complete_session(
        session_id=met_for_38_minutes.pk,
        actor=cast.agent,
        minutes=60,
        recap=f.GOOD_RECAP,
        on_behalf_reason="The tutor emailed the time; the call dropped twice.",
    )
    assert Completion.objects.get().overlogged is True


def test_an_expired_grace_refusal_in_the_pop_up_links_to_a_filled_in_late_log(
    client: Client, cast: Cast, met_for_38_minutes: Session
) -> None:
    with time_machine.travel(NOW + timedelta(hours=80), tick=False):
        refused = post_log(as_user(client, cast.tutor), met_for_38_minutes, log_form())
    assert refused.status_code == 422
    body = refused.json()
    assert body["code"] == "grace_period_expired"
    late_log = reverse("support:late_log_new", args=[met_for_38_minutes.pk])
    typed = log_form()
    carried = ("minutes", "topics_covered", "tutee_progress", "next_steps")
    query = urlencode({key: typed[key] for key in carried})
    assert body["late_log_url"] == f"{late_log}?{query}"
    assert_not_completed(met_for_38_minutes)
