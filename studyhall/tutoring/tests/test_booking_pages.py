"""The booking pages: Book a session, the request and invitation forms with what is left of
the limits, proposing and answering a new time on the session page, and "Nobody came"."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import Cast
from studyhall.core.models import AuditEntry
from studyhall.testing import factories as f
from studyhall.tutoring.models import (
    Origin,
    ParticipantState,
    ProposalState,
    Session,
    Status,
    TimeProposal,
)

NY = ZoneInfo("America/New_York")
NOW = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # Monday, 10:00 AM in New York


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cast(cast: Cast) -> Cast:
    """The personas, living in New York (the org's zone)."""
    for person in (cast.tutor, cast.student, cast.student2):
        person.time_zone = "America/New_York"
        person.save(update_fields=["time_zone"])
    return cast


def as_user(client: Client, user: object) -> Client:
    client.force_login(user)  # type: ignore[arg-type]
    return client


def html_of(response: Any) -> str:
    return str(response.content.decode())


def text_of(response: Any) -> str:
    """The page's text with tags dropped and white space collapsed, for exact sentences."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_of(response)))


def messages_of(client: Client, session: Session) -> str:
    return text_of(client.get(reverse("tutoring:detail", args=[session.pk])))


REQUEST_FORM = {
    "date": "2025-03-05",
    "time": "16:00",
    "minutes": "60",
    "mode": "online",
    "location": "",
    "notes": "Equilibrium problems",
}


def request_url(cast: Cast) -> str:
    return f"{reverse('tutoring:book_request')}?course={cast.course.pk}&tutor={cast.tutor.pk}"


# -- Book a session ----------------------------------------------------------------------------


def test_the_nav_links_to_booking(client: Client, cast: Cast) -> None:
    html = html_of(as_user(client, cast.student).get(reverse("tutoring:sessions")))
    assert f'<a href="{reverse("tutoring:book")}">Book a session</a>' in html


def test_a_student_sees_the_tutors_of_their_courses(client: Client, cast: Cast) -> None:
    response = as_user(client, cast.student).get(reverse("tutoring:book"))

    text = text_of(response)
    assert "CHEM 110 — General Chemistry" in text
    assert "Otto Tutor Request a session with Otto Tutor for CHEM 110" in text
    assert "Tess Tutor Request a session with Tess Tutor for CHEM 110" in text
    assert "Invite students" not in text
    assert f"?course={cast.course.pk}&amp;tutor={cast.tutor.pk}" in html_of(response)


def test_the_course_filter_swaps_the_tutor_list(client: Client, cast: Cast) -> None:
    calc = f.make_course(cast.org, code="MATH 151", title="Calculus I")
    f.enroll(calc, cast.student)
    f.approve(calc, cast.other_tutor)
    client = as_user(client, cast.student)

    full = html_of(client.get(reverse("tutoring:book")))
    assert 'id="course-filter"' in full
    part = client.get(reverse("tutoring:book"), {"course": calc.pk}, headers={"HX-Request": "true"})

    html = html_of(part)
    assert html.strip().startswith('<div id="tutor-list">')
    assert "MATH 151" in html and "CHEM 110" not in html
    assert "<h1>" not in html


def test_a_tutor_sees_the_courses_to_invite_for(client: Client, cast: Cast) -> None:
    text = text_of(as_user(client, cast.tutor).get(reverse("tutoring:book")))
    assert "Invite students" in text
    assert "CHEM 110 — General Chemistry 2 students enrolled" in text
    assert "Find a tutor" not in text


def test_someone_with_no_courses_is_told_why(client: Client, cast: Cast) -> None:
    text = text_of(as_user(client, cast.admin).get(reverse("tutoring:book")))
    assert "You are not enrolled in a course, or approved to tutor one, yet." in text


# -- the request form --------------------------------------------------------------------------


def test_the_request_form_shows_what_is_left_before_submitting(client: Client, cast: Cast) -> None:
    f.make_session(
        org=cast.org,
        tutor=cast.other_tutor,
        students=[cast.student],
        start=datetime(2025, 3, 3, 18, 0, tzinfo=UTC),
        minutes=45,
    )

    response = as_user(client, cast.student).get(request_url(cast))

    assert response.status_code == 200
    text = text_of(response)
    assert "CHEM 110 — General Chemistry, with Tess Tutor" in text
    assert "Times are in your time zone, America/New_York." in text
    # Tomorrow at 3:00 PM by default: this week.
    assert "You have 2 hours 15 minutes left for CHEM 110 this week (of 3 hours a week)." in text
    assert "Tess Tutor can tutor 15 hours more this week (of 15 hours)." in text
    html = html_of(response)
    assert 'value="2025-03-04"' in html and 'value="15:00"' in html
    assert f'hx-get="{reverse("tutoring:book_allowance")}"' in html


def test_the_allowance_box_follows_what_is_typed(client: Client, cast: Cast) -> None:
    f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=datetime(2025, 3, 5, 14, 0, tzinfo=UTC),
        minutes=30,
    )
    params: dict[str, Any] = {
        "course": cast.course.pk,
        "tutor": cast.tutor.pk,
        **REQUEST_FORM,
        "minutes": "90",
    }

    response = as_user(client, cast.student).get(reverse("tutoring:book_allowance"), params)

    html = html_of(response)
    assert "<h1>" not in html
    text = text_of(response)
    assert "You have 2 hours 30 minutes left for CHEM 110 this week" in text
    assert "You already have a session with Tess Tutor on Wed, Mar 5; choose another day." in text
    assert "This booking would go over a limit" in text
    assert html.count("allowance__line--over") == 1


def test_a_student_requests_a_session(client: Client, cast: Cast) -> None:
    client = as_user(client, cast.student)

    response = client.post(
        reverse("tutoring:book_request"),
        {"course": cast.course.pk, "tutor": cast.tutor.pk, **REQUEST_FORM},
    )

    session = Session.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tutoring:detail", args=[session.pk])
    assert (session.status, session.origin, session.tutor) == (
        Status.REQUESTED,
        Origin.REQUEST,
        cast.tutor,
    )
    # 4:00 PM in New York on Mar 5 (EST) is 21:00 UTC.
    assert session.scheduled_start == datetime(2025, 3, 5, 21, 0, tzinfo=UTC)
    assert (session.planned_minutes, session.notes) == (60, "Equilibrium problems")
    text = messages_of(client, session)
    assert "Request sent to Tess Tutor. It shows as “Awaiting tutor” until they answer." in text
    assert "Awaiting tutor" in text


def test_a_request_over_a_limit_says_which_and_keeps_the_form(client: Client, cast: Cast) -> None:
    for day in (3, 4):
        f.make_session(
            org=cast.org,
            tutor=cast.other_tutor,
            students=[cast.student],
            start=datetime(2025, 3, day, 20, 0, tzinfo=UTC),
            minutes=90,
        )

    response = as_user(client, cast.student).post(
        reverse("tutoring:book_request"),
        {"course": cast.course.pk, "tutor": cast.tutor.pk, **REQUEST_FORM},
    )

    assert response.status_code == 422
    text = text_of(response)
    assert (
        "You have no time left for CHEM 110 this week (3 hours a week per course); this "
        "session needs 1 hour." in text
    )
    assert 'value="Equilibrium problems"' in html_of(response) or "Equilibrium problems" in text
    assert Session.objects.count() == 2


def test_a_request_no_program_pays_for_is_refused_on_the_page(client: Client, cast: Cast) -> None:
    cast.org.programs.filter(is_default=True).delete()
    grant = f.make_program(cast.org, name="STEM grant", courses=[cast.course], budget_amount=0)
    client = as_user(client, cast.student)
    response = client.post(
        reverse("tutoring:book_request"),
        {"course": cast.course.pk, "tutor": cast.tutor.pk, **REQUEST_FORM},
    )
    assert response.status_code == 422
    assert (
        "You aren't in a program that covers CHEM 110; your program admin decides whose "
        "tutoring is paid for." in html.unescape(text_of(response))
    )
    grant.students.add(cast.student)
    response = client.post(
        reverse("tutoring:book_request"),
        {"course": cast.course.pk, "tutor": cast.tutor.pk, **REQUEST_FORM},
    )
    assert response.status_code == 422
    assert (
        "STEM grant has $0.00 left of its $0.00 budget; this 60-minute session needs $15.00. "
        "Ask your program admin about its budget." in text_of(response)
    )
    assert Session.objects.count() == 0


def test_a_time_the_clocks_skip_is_refused(client: Client, cast: Cast) -> None:
    response = as_user(client, cast.student).post(
        reverse("tutoring:book_request"),
        {
            "course": cast.course.pk,
            "tutor": cast.tutor.pk,
            **REQUEST_FORM,
            "date": "2025-03-09",
            "time": "02:30",
        },
    )

    assert response.status_code == 400
    assert (
        "02:30 does not exist on Sun, Mar 9 in America/New_York: the clocks jump forward that "
        "night." in text_of(response)
    )
    assert not Session.objects.exists()


@pytest.mark.parametrize("who", ["tutor", "other_tutor", "student2"])
def test_only_a_tutor_of_a_course_you_take_can_be_requested(
    client: Client, cast: Cast, who: str
) -> None:
    # A tutor who is not approved for a course is not offered: the page does not exist.
    from studyhall.orgs.models import TutorCourse

    TutorCourse.objects.filter(tutor=cast.other_tutor).delete()
    url = (
        f"{reverse('tutoring:book_request')}?course={cast.course.pk}&tutor={getattr(cast, who).pk}"
    )
    expected = 200 if who == "tutor" else 404
    assert as_user(client, cast.student).get(url).status_code == expected


def test_booking_needs_sign_in(client: Client, db: None) -> None:
    response = client.get(reverse("tutoring:book"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# -- the invitation form -----------------------------------------------------------------------


def test_a_tutor_invites_two_students(client: Client, cast: Cast) -> None:
    client = as_user(client, cast.tutor)
    page = client.get(f"{reverse('tutoring:book_invite')}?course={cast.course.pk}")
    assert "Maya Chen" in text_of(page) and "Sam Lee" in text_of(page)

    response = client.post(
        reverse("tutoring:book_invite"),
        {
            "course": cast.course.pk,
            "students": [cast.student.pk, cast.student2.pk],
            **REQUEST_FORM,
            "mode": "in_person",
            "location": "Library room 2",
        },
    )

    session = Session.objects.get()
    assert response.status_code == 302
    assert session.status == Status.INVITED
    assert sorted(session.participants.values_list("user_id", flat=True)) == sorted(
        [cast.student.pk, cast.student2.pk]
    )
    assert session.location == "Library room 2"


def test_the_invitation_allowance_names_each_student(client: Client, cast: Cast) -> None:
    params: dict[str, Any] = {
        "course": cast.course.pk,
        "students": [cast.student.pk, cast.student2.pk],
        **REQUEST_FORM,
    }
    text = text_of(as_user(client, cast.tutor).get(reverse("tutoring:book_allowance"), params))
    assert "Maya Chen has 3 hours left for CHEM 110 this week" in text
    assert "Sam Lee has 3 hours left for CHEM 110 this week" in text
    assert "You can tutor 15 hours more this week (of 15 hours)." in text


def test_a_student_cannot_open_the_invitation_form(client: Client, cast: Cast) -> None:
    url = f"{reverse('tutoring:book_invite')}?course={cast.course.pk}"
    assert as_user(client, cast.student).get(url).status_code == 404


# -- a new time on the session page ------------------------------------------------------------


def scheduled(cast: Cast, **kwargs: Any) -> Session:
    return f.make_session(
        org=cast.org,
        tutor=cast.tutor,
        students=[cast.student],
        start=datetime(2025, 3, 5, 20, 0, tzinfo=UTC),  # Wed 3:00 PM in New York
        **kwargs,
    )


def test_the_tutor_proposes_a_new_time_and_the_student_accepts_it(
    client: Client, cast: Cast
) -> None:
    session = scheduled(cast)
    tutor = as_user(client, cast.tutor)
    assert "Propose a new time" in text_of(tutor.get(reverse("tutoring:detail", args=[session.pk])))
    form = tutor.get(reverse("tutoring:propose", args=[session.pk]))
    assert 'value="2025-03-05"' in html_of(form) and 'value="15:00"' in html_of(form)

    response = tutor.post(
        reverse("tutoring:propose", args=[session.pk]),
        {"date": "2025-03-06", "time": "17:30", "minutes": "45", "message": "Lab is closed"},
    )

    assert response.status_code == 302
    proposal = TimeProposal.objects.get()
    assert proposal.scheduled_start == datetime(2025, 3, 6, 22, 30, tzinfo=UTC)
    assert "New time proposed. The session keeps its time until each student accepts." in (
        messages_of(tutor, session)
    )

    student = Client()
    as_user(student, cast.student)
    page = text_of(student.get(reverse("tutoring:detail", args=[session.pk])))
    assert (
        "Tess Tutor proposed Thu, Mar 6, 5:30 PM EST for 45 min, instead of Wed, Mar 5, "
        "3:00 PM EST (1 h)." in page
    )
    assert "“Lab is closed”" in page
    assert "Accept new time" in page
    assert "Accept invitation" not in page and "Decline invitation" not in page

    student.post(reverse("tutoring:accept_proposal", args=[session.pk]))

    session.refresh_from_db()
    assert (session.status, session.scheduled_start) == (
        Status.SCHEDULED,
        datetime(2025, 3, 6, 22, 30, tzinfo=UTC),
    )
    assert "You accepted the new time; the session is scheduled." in messages_of(student, session)


def test_the_proposer_sees_who_must_answer(client: Client, cast: Cast) -> None:
    session = scheduled(cast)
    as_user(client, cast.student).post(
        reverse("tutoring:propose", args=[session.pk]),
        {"date": "2025-03-06", "time": "17:30", "minutes": "60", "message": ""},
    )

    text = messages_of(client, session)

    assert "You proposed Thu, Mar 6, 5:30 PM EST" in text
    assert "Waiting for Tess Tutor to answer." in text
    assert "Propose another time" in text


def test_declining_a_new_time_with_a_message(client: Client, cast: Cast) -> None:
    session = scheduled(cast)
    student = Client()
    as_user(student, cast.student)
    student.post(
        reverse("tutoring:propose", args=[session.pk]),
        {"date": "2025-03-06", "time": "17:30", "minutes": "60", "message": ""},
    )
    tutor = as_user(client, cast.tutor)
    page = text_of(tutor.get(reverse("tutoring:detail", args=[session.pk])))
    assert "Accept new time" in page and "Accept request" not in page

    tutor.post(
        reverse("tutoring:decline_proposal", args=[session.pk]), {"message": "Thursday is full"}
    )

    session.refresh_from_db()
    assert session.status == Status.SCHEDULED
    proposal = TimeProposal.objects.get()
    assert (proposal.state, proposal.answer_message) == (ProposalState.DECLINED, "Thursday is full")
    assert "You declined the new time; the session keeps its agreed time." in messages_of(
        tutor, session
    )


def test_a_refused_new_time_is_shown_on_the_form(client: Client, cast: Cast) -> None:
    session = scheduled(cast)

    response = as_user(client, cast.tutor).post(
        reverse("tutoring:propose", args=[session.pk]),
        {"date": "2025-03-01", "time": "10:00", "minutes": "60", "message": ""},
    )

    assert response.status_code == 422
    assert "Propose a time that is still to come." in text_of(response)


def test_someone_else_cannot_propose(client: Client, cast: Cast) -> None:
    session = scheduled(cast)
    form = {"date": "2025-03-06", "time": "17:30", "minutes": "60", "message": ""}
    response = as_user(client, cast.student2).post(
        reverse("tutoring:propose", args=[session.pk]), form
    )
    assert response.status_code == 403
    outsider = Client()
    as_user(outsider, cast.outsider)
    assert outsider.get(reverse("tutoring:propose", args=[session.pk])).status_code == 404
    assert not TimeProposal.objects.exists()


def test_a_student_declines_an_invitation_with_a_message(client: Client, cast: Cast) -> None:
    session = scheduled(cast, states=[ParticipantState.INVITED])
    client = as_user(client, cast.student)
    assert "Message (optional)" in text_of(
        client.get(reverse("tutoring:detail", args=[session.pk]))
    )

    client.post(reverse("tutoring:decline", args=[session.pk]), {"message": "Exam that day"})

    entry = AuditEntry.objects.get(session=session, action="session.declined")
    assert entry.data == {"message": "Exam that day"}


# -- nobody came ----------------------------------------------------------------------------------


def test_the_tutor_marks_a_session_nobody_came_to(client: Client, cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - timedelta(hours=1)
    )
    tutor = as_user(client, cast.tutor)
    page = text_of(tutor.get(reverse("tutoring:detail", args=[session.pk])))
    assert "Nobody came" in page
    assert "Propose a new time" not in page  # it has started

    tutor.post(reverse("tutoring:nobody_came", args=[session.pk]))

    session.refresh_from_db()
    assert session.status == Status.MISSED
    assert "The session is marked as missed: nobody came." in messages_of(tutor, session)


def test_students_are_not_offered_nobody_came(client: Client, cast: Cast) -> None:
    session = f.make_session(
        org=cast.org, tutor=cast.tutor, students=[cast.student], start=NOW - timedelta(hours=1)
    )
    page = text_of(as_user(client, cast.student).get(reverse("tutoring:detail", args=[session.pk])))
    assert "Nobody came" not in page
