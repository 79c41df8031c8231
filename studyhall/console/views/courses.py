"""Courses, their students, and tutor approvals (Unverified, Active, Disabled)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from studyhall.accounts.models import User
from studyhall.console import forms, selectors
from studyhall.console.pages import (
    SHOWN,
    choice_param,
    console_page,
    page_query,
    paginate,
    render_console,
)
from studyhall.orgs.models import ApprovalStatus, Course, Enrollment, Organization, TutorCourse
from studyhall.orgs.services import courses as service
from studyhall.web.viewer import HtmxRequest, viewer_of


def _list(
    request: HtmxRequest, organization: Organization, form: forms.CourseForm, status: int = 200
) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    q = request.GET.get("q", "").strip()[:100]
    return render_console(
        request,
        organization,
        "console/courses.html",
        {
            "page": paginate(request, selectors.courses(organization, q=q, archived=archived)),
            "query": page_query(request),
            "q": q,
            "archived": archived,
            "form": form,
        },
        status=status,
    )


@console_page
def courses(request: HtmxRequest, organization: Organization) -> HttpResponse:
    if request.method != "POST":
        return _list(request, organization, forms.CourseForm())
    form = forms.CourseForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                course = service.create_course(
                    organization_id=organization.pk,
                    actor=viewer_of(request),
                    code=form.cleaned_data["code"],
                    title=form.cleaned_data["title"],
                )
        except SHOWN as exc:
            forms.refuse(form, exc)
        else:
            messages.success(request, f"{course.code} is created.")
            return redirect("console:course", org_id=organization.pk, course_id=course.pk)
    return _list(request, organization, form, status=400)


def _course(organization: Organization, course_id: int) -> Course:
    course = selectors.course(organization, course_id)
    if course is None:
        raise Http404("There is no such course.")
    return course


def _course_page(
    request: HtmxRequest,
    organization: Organization,
    course_id: int,
    *,
    status: int = 200,
    **overrides: Any,
) -> HttpResponse:
    course = _course(organization, course_id)
    enrolled = (
        Enrollment.objects.filter(course=course)
        .select_related("student")
        .order_by("student__name", "student__email", "pk")
    )
    context: dict[str, Any] = {
        "course": course,
        "students": paginate(request, enrolled),
        "query": page_query(request),
        "approvals": list(
            TutorCourse.objects.filter(course=course)
            .select_related("tutor")
            .order_by("status", "tutor__name", "pk")
        ),
        "edit_form": forms.CourseForm(initial={"code": course.code, "title": course.title}),
        "enroll_form": forms.EnrollForm(),
        "tutors": list(selectors.tutors_of(organization).exclude(tutor_courses__course=course)),
    }
    context.update(overrides)
    return render_console(request, organization, "console/course.html", context, status=status)


@console_page
def course(request: HtmxRequest, organization: Organization, course_id: int) -> HttpResponse:
    if request.method != "POST":
        return _course_page(request, organization, course_id)
    form = forms.CourseForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                service.update_course(
                    organization_id=organization.pk,
                    course_id=course_id,
                    actor=viewer_of(request),
                    code=form.cleaned_data["code"],
                    title=form.cleaned_data["title"],
                )
        except SHOWN as exc:
            forms.refuse(form, exc)
        else:
            messages.success(request, "Course saved.")
            return redirect("console:course", org_id=organization.pk, course_id=course_id)
    return _course_page(request, organization, course_id, status=400, edit_form=form)


@require_POST
@console_page
def archive(request: HtmxRequest, organization: Organization, course_id: int) -> HttpResponse:
    _course(organization, course_id)  # another organization's course: 404
    archived = request.POST.get("archived") != "0"
    try:
        with transaction.atomic(durable=True):
            course = service.set_archived(
                organization_id=organization.pk,
                course_id=course_id,
                actor=viewer_of(request),
                archived=archived,
            )
    except SHOWN as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{course.code} is {'archived' if archived else 'reopened'}.")
    return redirect("console:course", org_id=organization.pk, course_id=course_id)


@require_POST
@console_page
def enroll(request: HtmxRequest, organization: Organization, course_id: int) -> HttpResponse:
    _course(organization, course_id)  # another organization's course: 404
    form = forms.EnrollForm(request.POST)
    if form.is_valid():
        who = form.cleaned_data["email"].strip()
        student = (
            User.objects.filter(org_members__organization=organization)
            .filter(Q(email__iexact=who) | Q(org_members__school_id=who))
            .first()
        )
        try:
            with transaction.atomic(durable=True):
                service.enroll_students(
                    organization_id=organization.pk,
                    course_id=course_id,
                    actor=viewer_of(request),
                    student_ids=[student.pk] if student is not None else [],
                )
        except SHOWN as exc:
            form.add_error(
                "email",
                f"No student of {organization.name} is {who!r}."
                if student is None
                else exc.message,
            )
        else:
            messages.success(request, f"{student.display_name} is enrolled.")  # type: ignore[union-attr]
            return redirect("console:course", org_id=organization.pk, course_id=course_id)
    return _course_page(request, organization, course_id, status=400, enroll_form=form)


@require_POST
@console_page
def approval(request: HtmxRequest, organization: Organization, course_id: int) -> HttpResponse:
    _course(organization, course_id)  # another organization's course: 404
    form = forms.ApprovalForm(request.POST)
    back = request.POST.get("back") == "approvals"
    if not form.is_valid():
        messages.error(request, "Choose a tutor and Active or Disabled.")
    else:
        try:
            with transaction.atomic(durable=True):
                decided = service.set_approval(
                    organization_id=organization.pk,
                    course_id=course_id,
                    tutor_id=form.cleaned_data["tutor"],
                    actor=viewer_of(request),
                    status=form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                )
        except SHOWN as exc:
            messages.error(request, exc.message)
        else:
            state = "approved (Active)" if decided.status == ApprovalStatus.ACTIVE else "Disabled"
            messages.success(
                request, f"{decided.tutor.display_name} is {state} for {decided.course.code}."
            )
    if back:
        return redirect("console:approvals", org_id=organization.pk)
    return redirect("console:course", org_id=organization.pk, course_id=course_id)


@console_page
def approvals(request: HtmxRequest, organization: Organization) -> HttpResponse:
    status = choice_param(request, "status", list(ApprovalStatus.values))
    if "status" not in request.GET:
        status = ApprovalStatus.UNVERIFIED
    return render_console(
        request,
        organization,
        "console/approvals.html",
        {
            "page": paginate(request, selectors.approvals(organization, status=status)),
            "query": page_query(request),
            "status": status,
            "statuses": ApprovalStatus.choices,
        },
    )
