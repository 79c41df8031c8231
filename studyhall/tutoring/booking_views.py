"""Booking pages: find a tutor for a course you take and request a session, invite students as
a tutor, see what is left of the limits before submitting (htmx), propose a new time and answer
one, and report that nobody came. Views parse input, call one service, and render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError, Forbidden, NotFound, RuleViolation
from studyhall.orgs.models import Course
from studyhall.tutoring import booking_selectors, lifecycle
from studyhall.tutoring.access import access_session
from studyhall.tutoring.booking_forms import (
    InviteForm,
    ProposeForm,
    RequestForm,
    WhenForm,
    local_moment,
)
from studyhall.tutoring.limit_rules import day_label, spoken_minutes, week_phrase
from studyhall.tutoring.models import ON_SESSION, Status
from studyhall.tutoring.no_shows import suspensions_of
from studyhall.tutoring.services import limits, missed, no_shows, rescheduling, scheduling
from studyhall.tutoring.text import when
from studyhall.web.actions import act_and_redirect
from studyhall.web.params import int_param
from studyhall.web.refusals import refusals_as_pages
from studyhall.web.viewer import viewer_of

DEFAULT_HOUR = time(15, 0)


# -- what is left, in words ------------------------------------------------------------------


@dataclass(frozen=True)
class AllowanceLine:
    text: str
    ok: bool


def allowance_lines(
    left: limits.Allowance, *, minutes: int | None, viewer: User, now: datetime
) -> list[AllowanceLine]:
    """'You have 2 hours left for CHEM 110 this week', and whether `minutes` fits in it."""
    zone = left.course.organization.zone
    week = week_phrase(left.week, now=now, zone=zone)
    day = day_label(left.day.first_day)
    lines = []
    if minutes is not None and minutes > left.max_session_minutes:
        lines.append(
            AllowanceLine(
                f"Sessions last at most {spoken_minutes(left.max_session_minutes)}.", False
            )
        )
    tutor_name = "you" if left.tutor.pk == viewer.pk else left.tutor.display_name
    for s in left.students:
        you = s.student.pk == viewer.pk
        who, have = ("You", "have") if you else (s.student.display_name, "has")
        fits = minutes is None or minutes <= s.course_minutes_left
        lines.append(
            AllowanceLine(
                f"{who} {have} {spoken_minutes(s.course_minutes_left)} left for "
                f"{left.course.code} {week} "
                f"(of {spoken_minutes(left.student_weekly_minutes)} a week).",
                fits,
            )
        )
        if s.sessions_with_tutor_that_day >= left.pair_sessions_per_day:
            lines.append(
                AllowanceLine(
                    f"{who} already {have} a session with {tutor_name} on {day}; choose "
                    "another day.",
                    False,
                )
            )
    tutor_who = "You" if left.tutor.pk == viewer.pk else left.tutor.display_name
    lines.append(
        AllowanceLine(
            f"{tutor_who} can tutor {spoken_minutes(left.tutor_minutes_left)} more {week} "
            f"(of {spoken_minutes(left.tutor_weekly_minutes)}).",
            minutes is None or minutes <= left.tutor_minutes_left,
        )
    )
    return lines


def _allowance_context(
    *,
    viewer: User,
    course: Course,
    tutor: User,
    students: list[User],
    start: datetime | None,
    minutes: int | None,
    exclude_session_id: int | None = None,
) -> dict[str, Any]:
    past = _after_the_fact_note(start, minutes, course=course, viewer=viewer)
    if start is None or not students:
        return {"allowance_lines": [], "allowance_missing": True, "after_the_fact_note": past}
    try:
        left = limits.allowance(
            organization=course.organization,
            course=course,
            tutor=tutor,
            students=students,
            start=start,
            exclude_session_id=exclude_session_id,
        )
    except RuleViolation as refusal:
        # Too far away to book at all: that is all there is to say.
        return {"allowance_lines": [], "allowance_error": refusal.message}
    lines = allowance_lines(left, minutes=minutes, viewer=viewer, now=timezone.now())
    return {
        "allowance_lines": lines,
        "allowance_fits": all(line.ok for line in lines),
        "after_the_fact_note": past,
    }


def _after_the_fact_note(
    start: datetime | None, minutes: int | None, *, course: Course, viewer: User
) -> str:
    """Said while the form is filled in, before anyone books a session that already began."""
    if start is None or start >= timezone.now():
        return ""
    organization = course.organization
    accept_by = start + timedelta(minutes=minutes or 60, hours=organization.grace_hours)
    return (
        "This start is in the past, so the session will be marked “recorded after the fact” "
        f"and listed for {organization.name}'s admins. It still has to be accepted before its "
        f"grace period ends {when(accept_by, viewer.zone)}, or it becomes Missed."
    )


def _start_from(data: Any, zone: Any) -> datetime | None:
    """The start typed so far, for the allowance shown while the form is filled in."""
    form = WhenForm(data, zone=zone)
    form.is_valid()
    start = form.cleaned_data.get("start")
    return start if isinstance(start, datetime) else None


def _default_start(viewer: User) -> datetime:
    tomorrow = timezone.now().astimezone(viewer.zone).date() + timedelta(days=1)
    return local_moment(tomorrow, DEFAULT_HOUR, viewer.zone)


def _initial(viewer: User) -> dict[str, Any]:
    """Tomorrow at 3:00 PM in the viewer's zone, for an hour."""
    return {"date": _default_start(viewer).date(), "time": DEFAULT_HOUR, "minutes": 60}


def _typed(form: WhenForm, viewer: User) -> tuple[datetime | None, int | None]:
    """The start and length typed so far (for the allowance box), else the defaults."""
    if not form.is_bound:
        return _default_start(viewer), 60
    start, minutes = form.cleaned_data.get("start"), form.cleaned_data.get("minutes")
    return (
        start if isinstance(start, datetime) else None,
        minutes if isinstance(minutes, int) else None,
    )


# -- Book a session ----------------------------------------------------------------------------


@login_required
@require_GET
def book(request: HttpRequest) -> HttpResponse:
    """The courses you take with their tutors (request one), and those you tutor (invite)."""
    viewer = viewer_of(request)
    options = booking_selectors.booking_options(viewer)
    chosen = int_param(request.GET.get("course"))
    taking = [c for c in options.taking if chosen is None or c.course.pk == chosen]
    context: dict[str, Any] = {"options": options, "taking": taking, "chosen": chosen}
    if getattr(request, "htmx", False):
        return render(request, "tutoring/booking/book.html#tutor-list", context)
    context["suspensions"] = suspensions_of(viewer)
    return render(request, "tutoring/booking/book.html", context)


def _course_and_tutor(
    viewer: User, course_id: str | None, tutor_id: str | None
) -> tuple[Course, User]:
    """A course the viewer takes and one of its tutors; anything else does not exist here."""
    for choice in booking_selectors.booking_options(viewer).taking:
        if choice.course.pk == int_param(course_id):
            tutor = next((t for t in choice.people if t.pk == int_param(tutor_id)), None)
            if tutor is not None:
                return choice.course, tutor
    raise Http404("Choose a tutor of a course you take.")


@login_required
def request_session(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    source = request.POST if request.method == "POST" else request.GET
    course, tutor = _course_and_tutor(viewer, source.get("course"), source.get("tutor"))
    organization = course.organization
    zone, longest = viewer.zone, organization.max_session_minutes
    error = ""
    status = 200
    if request.method == "POST":
        form = RequestForm(request.POST, zone=zone, max_minutes=longest)
        if form.is_valid():
            try:
                session = scheduling.create_session(
                    actor=viewer,
                    organization_id=organization.pk,
                    course_id=course.pk,
                    tutor_id=tutor.pk,
                    mode=form.cleaned_data["mode"],
                    location=form.cleaned_data["location"],
                    scheduled_start=form.cleaned_data["start"],
                    planned_minutes=form.cleaned_data["minutes"],
                    notes=form.cleaned_data["notes"],
                )
            except DomainError as exc:
                error, status = exc.message, exc.http_status
            else:
                messages.success(
                    request,
                    f"Request sent to {tutor.display_name}. It shows as “Awaiting tutor” "
                    "until they answer.",
                )
                return redirect("tutoring:detail", pk=session.pk)
        else:
            error, status = "Some answers need another look; see below.", 400
    else:
        form = RequestForm(initial=_initial(viewer), zone=zone, max_minutes=longest)
    start, minutes = _typed(form, viewer)
    context = {
        "form": form,
        "course": course,
        "tutor": tutor,
        "error": error,
        **_allowance_context(
            viewer=viewer,
            course=course,
            tutor=tutor,
            students=[viewer],
            start=start,
            minutes=minutes,
        ),
    }
    return render(request, "tutoring/booking/request.html", context, status=status)


def _tutored_course(viewer: User, course_id: str | None) -> booking_selectors.CourseChoice:
    for choice in booking_selectors.booking_options(viewer).tutoring:
        if choice.course.pk == int_param(course_id):
            return choice
    raise Http404("Choose a course you tutor.")


@login_required
def invite(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    source = request.POST if request.method == "POST" else request.GET
    choice = _tutored_course(viewer, source.get("course"))
    course = choice.course
    organization = course.organization
    zone, longest = viewer.zone, organization.max_session_minutes
    error = ""
    status = 200
    if request.method == "POST":
        form = InviteForm(request.POST, zone=zone, max_minutes=longest, students=choice.people)
        if form.is_valid():
            try:
                session = scheduling.create_session(
                    actor=viewer,
                    organization_id=organization.pk,
                    course_id=course.pk,
                    student_ids=form.cleaned_data["students"],
                    mode=form.cleaned_data["mode"],
                    location=form.cleaned_data["location"],
                    scheduled_start=form.cleaned_data["start"],
                    planned_minutes=form.cleaned_data["minutes"],
                    notes=form.cleaned_data["notes"],
                )
            except DomainError as exc:
                error, status = exc.message, exc.http_status
            else:
                messages.success(
                    request,
                    "Invitation sent. The session shows as “Awaiting student” until every "
                    "student has answered.",
                )
                return redirect("tutoring:detail", pk=session.pk)
        else:
            error, status = "Some answers need another look; see below.", 400
    else:
        form = InviteForm(
            initial=_initial(viewer), zone=zone, max_minutes=longest, students=choice.people
        )
    chosen_ids = set(form.cleaned_data.get("students", [])) if form.is_bound else set()
    start, minutes = _typed(form, viewer)
    context = {
        "form": form,
        "course": course,
        "error": error,
        **_allowance_context(
            viewer=viewer,
            course=course,
            tutor=viewer,
            students=[s for s in choice.people if s.pk in chosen_ids],
            start=start,
            minutes=minutes,
        ),
    }
    return render(request, "tutoring/booking/invite.html", context, status=status)


@login_required
@require_GET
def allowance(request: HttpRequest) -> HttpResponse:
    """The allowance box of the booking forms, for the values typed so far (htmx)."""
    viewer = viewer_of(request)
    data = request.GET
    minutes = int_param(data.get("minutes"))
    start = _start_from(data, viewer.zone)
    session_id = int_param(data.get("session"))
    if session_id is not None:
        try:
            session = access_session(viewer, session_id)
        except (NotFound, Forbidden) as exc:
            raise Http404(exc.message) from exc
        course, tutor = session.course, session.tutor
        students = [
            p.user for p in session.participants.select_related("user") if p.state in ON_SESSION
        ]
    elif data.get("tutor"):
        course, tutor = _course_and_tutor(viewer, data.get("course"), data.get("tutor"))
        students = [viewer]
    else:
        choice = _tutored_course(viewer, data.get("course"))
        course, tutor = choice.course, viewer
        wanted = {int_param(i) for i in data.getlist("students")}
        students = [s for s in choice.people if s.pk in wanted]
    context = {"choose_students": session_id is None and not data.get("tutor")}
    context |= _allowance_context(
        viewer=viewer,
        course=course,
        tutor=tutor,
        students=students,
        start=start,
        minutes=minutes,
        exclude_session_id=session_id,
    )
    return render(request, "tutoring/booking/_allowance.html", context)


# -- A new time --------------------------------------------------------------------------------


@login_required
@refusals_as_pages
def propose(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    session = access_session(viewer, pk)
    zone, longest = viewer.zone, session.organization.max_session_minutes
    error = ""
    status = 200
    if request.method == "POST":
        form = ProposeForm(request.POST, zone=zone, max_minutes=longest)
        if form.is_valid():
            try:
                proposal = rescheduling.propose_time(
                    session_id=session.pk,
                    actor=viewer,
                    scheduled_start=form.cleaned_data["start"],
                    planned_minutes=form.cleaned_data["minutes"],
                    message=form.cleaned_data["message"],
                )
            except (NotFound, Forbidden):
                raise
            except DomainError as exc:
                error, status = exc.message, exc.http_status
            else:
                answer = "each student" if proposal.by_tutor else session.tutor.display_name
                messages.success(
                    request,
                    f"New time proposed. The session keeps its time until {answer} accepts.",
                )
                return redirect("tutoring:detail", pk=session.pk)
        else:
            error, status = "Some answers need another look; see below.", 400
    else:
        local = session.scheduled_start.astimezone(viewer.zone)
        form = ProposeForm(
            initial={
                "date": local.date(),
                "time": local.time().replace(second=0, microsecond=0),
                "minutes": session.planned_minutes,
            },
            zone=zone,
            max_minutes=longest,
        )
    students = [
        p.user for p in session.participants.select_related("user") if p.state in ON_SESSION
    ]
    context = {
        "form": form,
        "session": session,
        "error": error,
        "ended": session.status not in lifecycle.PENDING,
        **_allowance_context(
            viewer=viewer,
            course=session.course,
            tutor=session.tutor,
            students=students,
            start=_typed(form, viewer)[0] if form.is_bound else session.scheduled_start,
            minutes=_typed(form, viewer)[1] if form.is_bound else session.planned_minutes,
            exclude_session_id=session.pk,
        ),
    }
    return render(request, "tutoring/booking/propose.html", context, status=status)


@login_required
@require_POST
@refusals_as_pages
def accept_proposal(request: HttpRequest, pk: int) -> HttpResponse:
    def run(viewer: User) -> str:
        session = rescheduling.accept_proposal(session_id=pk, actor=viewer)
        if session.status == Status.SCHEDULED:
            return "You accepted the new time; the session is scheduled."
        return "You accepted the new time. The session moves once everyone has."

    return act_and_redirect(request, run, to=reverse("tutoring:detail", kwargs={"pk": pk}))


@login_required
@require_POST
@refusals_as_pages
def decline_proposal(request: HttpRequest, pk: int) -> HttpResponse:
    message = request.POST.get("message", "")

    def run(viewer: User) -> str:
        rescheduling.decline_proposal(session_id=pk, actor=viewer, message=message)
        return "You declined the new time; the session keeps its agreed time."

    return act_and_redirect(request, run, to=reverse("tutoring:detail", kwargs={"pk": pk}))


@login_required
@require_POST
@refusals_as_pages
def nobody_came(request: HttpRequest, pk: int) -> HttpResponse:
    def run(viewer: User) -> str:
        missed.report_nobody_came(session_id=pk, actor=viewer)
        return "The session is marked as missed: nobody came."

    return act_and_redirect(request, run, to=reverse("tutoring:detail", kwargs={"pk": pk}))


@login_required
@require_POST
@refusals_as_pages
def report_absence(request: HttpRequest, pk: int) -> HttpResponse:
    note = request.POST.get("note", "")

    def run(viewer: User) -> str:
        no_shows.report_tutor_absent(session_id=pk, actor=viewer, note=note)
        return (
            "Reported: your program's admins will decide, and you will hear the outcome. "
            "Until then the session cannot be logged."
        )

    return act_and_redirect(request, run, to=reverse("tutoring:detail", kwargs={"pk": pk}))
