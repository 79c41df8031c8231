"""A tutor's own side of approvals: apply to tutor a course, and see where each stands."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render

from studyhall.console import forms
from studyhall.core.errors import DomainError
from studyhall.orgs.models import Course, Role, TutorCourse
from studyhall.orgs.services.courses import apply_to_tutor
from studyhall.web.viewer import HtmxRequest, viewer_of


@login_required
def tutor_courses(request: HtmxRequest) -> HttpResponse:
    viewer = viewer_of(request)
    status = 200
    form = forms.ApplyForm()
    if request.method == "POST":
        form = forms.ApplyForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    approval = apply_to_tutor(
                        course_id=form.cleaned_data["course"],
                        actor=viewer,
                        note=form.cleaned_data["note"],
                        transcript=form.cleaned_data["transcript"],
                    )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    f"You applied to tutor {approval.course.code}; an admin will approve or "
                    "decline it.",
                )
                return redirect("tutor_courses")
        else:
            messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        status = 400
    standing = {
        a.course_id: a for a in TutorCourse.objects.filter(tutor=viewer).select_related("course")
    }
    offered = list(
        Course.objects.filter(
            organization__memberships__user=viewer,
            organization__memberships__role=Role.TUTOR,
            organization__memberships__is_active=True,
            archived_at__isnull=True,
        )
        .select_related("organization")
        .distinct()
        .order_by("organization__name", "code")
    )
    rows = [(c, standing.get(c.pk)) for c in offered]
    return render(
        request,
        "console/tutor_courses.html",
        {"rows": rows, "form": form, "is_tutor": bool(offered) or bool(standing)},
        status=status,
    )
