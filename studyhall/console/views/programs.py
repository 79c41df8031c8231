"""Programs: what the organization pays tutoring for, each with its spend against budget."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from studyhall.accounts.models import User
from studyhall.console import selectors
from studyhall.console.forms import refuse
from studyhall.console.pages import SHOWN, console_page, page_query, paginate, render_console
from studyhall.console.program_forms import ProgramForm, ProgramStudentsForm
from studyhall.orgs.models import Organization, Program
from studyhall.orgs.services import programs as service
from studyhall.tutoring.programs import usage_of
from studyhall.web.actions import act_and_redirect
from studyhall.web.viewer import HtmxRequest, viewer_of


def _form(organization: Organization, *args: Any, **kwargs: Any) -> ProgramForm:
    return ProgramForm(
        *args, organization=organization, tutors=selectors.tutors_of(organization), **kwargs
    )


def _list(
    request: HtmxRequest, organization: Organization, form: ProgramForm, status: int = 200
) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    q = request.GET.get("q", "").strip()[:100]
    page = paginate(request, selectors.programs(organization, q=q, archived=archived))
    rows = list(page.object_list)
    usage = usage_of(rows)
    return render_console(
        request,
        organization,
        "console/programs.html",
        {
            "page": page,
            "rows": [(p, usage[p.pk]) for p in rows],
            "query": page_query(request),
            "q": q,
            "archived": archived,
            "form": form,
        },
        status=status,
    )


@console_page
def programs(request: HtmxRequest, organization: Organization) -> HttpResponse:
    if request.method != "POST":
        return _list(request, organization, _form(organization, initial={"budget_unit": "money"}))
    form = _form(organization, request.POST)
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                program = service.create_program(
                    organization_id=organization.pk,
                    actor=viewer_of(request),
                    data=form.program_input(student_ids=[]),
                )
        except SHOWN as exc:
            refuse(form, exc)
        else:
            messages.success(request, f"{program.name} is created; now add its students.")
            return redirect("console:program", org_id=organization.pk, program_id=program.pk)
    return _list(request, organization, form, status=400)


def _program(organization: Organization, program_id: int) -> Program:
    program = selectors.program(organization, program_id)
    if program is None:
        raise Http404("There is no such program.")
    return program


def _program_page(
    request: HtmxRequest,
    organization: Organization,
    program_id: int,
    *,
    status: int = 200,
    **overrides: Any,
) -> HttpResponse:
    program = _program(organization, program_id)
    students = program.students.order_by("name", "email", "pk")
    usage = usage_of([program])[program.pk]
    context: dict[str, Any] = {
        "program": program,
        "usage": usage,
        "spend_rows": [(program, usage)],
        "courses": list(program.courses.order_by("code")),
        "program_tutors": list(program.tutors.order_by("name", "email")),
        "students": paginate(request, students),
        "query": page_query(request),
        "edit_form": _form(organization, initial=ProgramForm.initial_for(program)),
        "students_form": ProgramStudentsForm(),
    }
    context.update(overrides)
    return render_console(request, organization, "console/program.html", context, status=status)


@console_page
def program(request: HtmxRequest, organization: Organization, program_id: int) -> HttpResponse:
    if request.method != "POST":
        return _program_page(request, organization, program_id)
    form = _form(organization, request.POST)
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                service.update_program(
                    organization_id=organization.pk,
                    program_id=program_id,
                    actor=viewer_of(request),
                    data=form.program_input(student_ids=None),
                )
        except SHOWN as exc:
            refuse(form, exc)
        else:
            messages.success(request, "Program saved.")
            return redirect("console:program", org_id=organization.pk, program_id=program_id)
    return _program_page(request, organization, program_id, status=400, edit_form=form)


@require_POST
@console_page
def archive(request: HtmxRequest, organization: Organization, program_id: int) -> HttpResponse:
    _program(organization, program_id)  # another organization's program: 404
    archived = request.POST.get("archived") != "0"

    def run(viewer: User) -> str:
        with transaction.atomic(durable=True):
            program = service.set_program_archived(
                organization_id=organization.pk,
                program_id=program_id,
                actor=viewer,
                archived=archived,
            )
        return f"{program.name} is {'archived' if archived else 'reopened'}."

    return act_and_redirect(request, run, to=_program_url(organization, program_id))


@require_POST
@console_page
def students(request: HtmxRequest, organization: Organization, program_id: int) -> HttpResponse:
    _program(organization, program_id)
    form = ProgramStudentsForm(request.POST)
    if form.is_valid():
        ids, missing = selectors.students_by_email_or_school_id(organization, form.wanted())
        if missing:
            form.add_error(
                "students", f"No student of {organization.name} is {', '.join(missing)}."
            )
        else:
            try:
                with transaction.atomic(durable=True):
                    added = service.add_program_students(
                        organization_id=organization.pk,
                        program_id=program_id,
                        actor=viewer_of(request),
                        student_ids=ids,
                    )
            except SHOWN as exc:
                refuse(form, exc)
            else:
                messages.success(request, f"{added} student{'' if added == 1 else 's'} added.")
                return redirect("console:program", org_id=organization.pk, program_id=program_id)
    return _program_page(request, organization, program_id, status=400, students_form=form)


@require_POST
@console_page
def remove_student(
    request: HtmxRequest, organization: Organization, program_id: int, user_id: int
) -> HttpResponse:
    _program(organization, program_id)

    def run(viewer: User) -> str:
        with transaction.atomic(durable=True):
            removed = service.remove_program_student(
                organization_id=organization.pk,
                program_id=program_id,
                actor=viewer,
                student_id=user_id,
            )
        if removed:
            return "The student is no longer in the program."
        return "That person was not in the program."

    return act_and_redirect(request, run, to=_program_url(organization, program_id))


HOME_ROWS = 6


def home_panel(organization: Organization) -> dict[str, Any]:
    """The console home's spend against budget: the open programs, soonest to end first."""
    shown = list(selectors.programs(organization)[: HOME_ROWS + 1])
    more = len(shown) > HOME_ROWS
    shown = shown[:HOME_ROWS]
    usage = usage_of(shown)
    return {"rows": [(p, usage[p.pk]) for p in shown], "more": more}


def _program_url(organization: Organization, program_id: int) -> str:
    return reverse("console:program", kwargs={"org_id": organization.pk, "program_id": program_id})
