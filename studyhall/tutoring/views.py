"""Pages for sessions: the Sessions tab, a session's details with its actions, and the Complete
Session form. Views parse input, call one service, and render; the rules live in services."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from studyhall.accounts.models import User
from studyhall.core.errors import Conflict, DomainError, Forbidden, NotFound
from studyhall.core.money import format_cents
from studyhall.tutoring import selectors
from studyhall.tutoring.access import access_session
from studyhall.tutoring.confirmation_forms import DisputeForm
from studyhall.tutoring.figures import figures_of
from studyhall.tutoring.forms import CompletionForm, recap_count_text
from studyhall.tutoring.handoff import GRACE_EXPIRED, late_log_url
from studyhall.tutoring.models import (
    ON_SESSION,
    Confirmation,
    ConfirmationAnswer,
    EarningHold,
    HoldState,
    ParticipantState,
    Rating,
    Session,
    Status,
)
from studyhall.tutoring.permissions import session_permissions
from studyhall.tutoring.rules import recap_length
from studyhall.tutoring.services import confirmations, ratings, scheduling
from studyhall.tutoring.services.classroom import FOLLOWS_CALL
from studyhall.tutoring.services.completion import complete_session
from studyhall.web.actions import act_and_redirect
from studyhall.web.form_errors import put_refusal_on_form
from studyhall.web.params import int_param
from studyhall.web.refusals import refusals_as_pages
from studyhall.web.viewer import HtmxRequest, viewer_of

CONFIRMED_ANSWERS = (ConfirmationAnswer.CONFIRMED, ConfirmationAnswer.AUTO_CONFIRMED)

# Refusals that point at one field of the completion form, and what to say next to it.


def _session(viewer: User, pk: int) -> Session:
    details = selectors.with_open_proposal(
        selectors.with_details(Session.objects.select_related("completion__earning"))
    )
    return access_session(viewer, pk, queryset=details)


# -- Sessions tab --------------------------------------------------------------------------


@login_required
def sessions(request: HtmxRequest) -> HttpResponse:
    viewer = viewer_of(request)
    now = timezone.now()
    return render(
        request,
        "tutoring/sessions.html",
        {
            "tab": selectors.sessions_tab(viewer, now=now),
            "now": now,
        },
    )


SECTION_TITLES = {
    "needs_completion": "Needs completion",
    "upcoming": "Upcoming",
    "past": "Past",
}


@login_required
@require_GET
def sessions_section(request: HtmxRequest, section: str) -> HttpResponse:
    """A further page of one section of the Sessions tab: the rows alone for "Show more"
    (htmx), or a page of its own without JavaScript."""
    if section not in SECTION_TITLES:
        raise Http404("There is no such list of sessions.")
    viewer = viewer_of(request)
    now = timezone.now()
    page = max(int_param(request.GET.get("page")) or 1, 1)
    rows, more = selectors.section_page(viewer, section, now=now, page=page)
    context = {
        "section": section,
        "title": SECTION_TITLES[section],
        "rows": rows,
        "more": more,
        "page": page,
        "now": now,
        "show_logging_note": section == "needs_completion",
    }
    if request.htmx:
        return render(request, "tutoring/sessions.html#section-rows", context)
    return render(request, "tutoring/sessions_section.html", context)


# -- Session details -----------------------------------------------------------------------


@login_required
@refusals_as_pages
def detail(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    session = _session(viewer, pk)
    context = _detail_context(viewer, session)
    part = request.GET.get("part") if request.htmx else None
    if part in ("complete-panel", "status-badge"):
        # Asked again every few seconds while the classroom can change them (rule 4).
        return render(request, f"tutoring/detail.html#{part}", context)
    return render(request, "tutoring/detail.html", context)


def _detail_context(viewer: User, session: Session) -> dict[str, Any]:
    now = timezone.now()
    may = session_permissions(viewer, session, now=now)
    blocker = None
    if may.log:
        blocker = selectors.completion_blocker(session, viewer, now=now)
    completion = getattr(session, "completion", None)
    show_earnings = may.see_earnings
    # Corrections never edit the completion; the page leads with the current figures and
    # lists what was logged and each correction beneath, oldest first.
    corrections = (
        list(session.corrections.select_related("created_by").order_by("created_at", "id"))
        if completion
        else []
    )
    return {
        "session": session,
        "may": may,
        "participants": may.participants,
        "completion": completion,
        "corrections": corrections,
        "figures": figures_of(completion, corrections) if completion else None,
        **confirmation_context(viewer, session, show_earnings=show_earnings),
        "is_tutor": may.is_tutor,
        "is_agent": may.is_agent,
        "can_accept": may.accept,
        "can_decline": may.decline,
        "can_cancel": may.cancel,
        "cancel_withdraws": may.cancel_withdraws,
        "can_remove": may.remove,
        "removable_states": ON_SESSION,
        "may_log": may.log,
        "blocker": blocker,
        "deadline": selectors.deadline_of(session),
        "now": now,
        "show_earnings": show_earnings,
        # The org admin, Support and the tutor see when the logged time exceeds the measured.
        "overlog_flag": (
            selectors.overlog_flag(completion, is_online=session.is_online) if show_earnings else ""
        ),
        "live_status": session.is_online and session.status in FOLLOWS_CALL,
    }


def confirmation_context(
    viewer: User, session: Session, *, show_earnings: bool, form: DisputeForm | None = None
) -> dict[str, Any]:
    """The viewer's own question ("Did this session happen as logged?") while it is open, the
    earning's state for those who see earnings, and whether the viewer may rate it now."""
    if session.status != Status.COMPLETED:
        return {"hold": None, "my_confirmation": None, "may_rate": False}
    hold = EarningHold.objects.filter(session=session).first()
    mine = (
        Confirmation.objects.filter(session=session, student=viewer).first()
        if hold is not None
        else None
    )
    rated = Rating.objects.filter(session=session, rater=viewer).exists()
    if session.tutor_id == viewer.pk:
        may_rate = not rated
    elif hold is not None:
        may_rate = not rated and mine is not None and mine.answer in CONFIRMED_ANSWERS
    else:
        may_rate = (
            not rated
            and session.participants.filter(user=viewer, state=ParticipantState.ACCEPTED).exists()
        )
    return {
        "hold": hold if show_earnings else None,
        "my_confirmation": mine,
        "may_answer": hold is not None
        and mine is not None
        and mine.answer == ConfirmationAnswer.PENDING
        and hold.state == HoldState.PENDING,
        "dispute_form": form or DisputeForm(),
        "confirm_by": hold.confirm_by if hold is not None else None,
        "may_rate": may_rate,
        "rating_by_tutor": session.tutor_id == viewer.pk,
    }


@login_required
@require_POST
@refusals_as_pages
def rate(request: HtmxRequest, pk: int) -> HttpResponse:
    stars = int_param(request.POST.get("stars"))
    review = request.POST.get("review", "")

    def run(viewer: User) -> str:
        ratings.rate_session(session_id=pk, actor=viewer, stars=stars, review=review)
        return "Thank you for rating the session."

    return act_and_redirect(request, run, to=reverse("tutoring:detail", kwargs={"pk": pk}))


@login_required
@require_GET
def my_ratings(request: HtmxRequest) -> HttpResponse:
    summary = selectors.ratings_of_tutor(viewer_of(request))
    return render(request, "tutoring/ratings.html", {"summary": summary})


@login_required
@require_POST
@refusals_as_pages
def confirm(request: HtmxRequest, pk: int) -> HttpResponse:
    def run(viewer: User) -> str:
        confirmations.confirm_session(session_id=pk, actor=viewer)
        return "Thank you: you confirmed the session happened as logged."

    return act_and_redirect(request, run, to=reverse("tutoring:detail", kwargs={"pk": pk}))


@login_required
@require_POST
@refusals_as_pages
def dispute(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    form = DisputeForm(request.POST)
    if form.is_valid():
        try:
            confirmations.dispute_session(
                session_id=pk,
                actor=viewer,
                kind=form.cleaned_data["kind"],
                shorter_by_minutes=form.cleaned_data["shorter_by_minutes"],
                reason=form.cleaned_data["reason"],
            )
        except (NotFound, Forbidden):
            raise
        except DomainError as exc:
            put_refusal_on_form(
                form,
                exc,
                by_code={
                    "invalid_shorter_by": ("shorter_by_minutes", exc.message),
                    "reason_required": ("reason", exc.message),
                    "invalid_dispute_kind": ("kind", exc.message),
                    "already_answered": ("kind", exc.message),
                    "confirmation_closed": ("kind", exc.message),
                },
            )
        else:
            messages.success(
                request,
                "Thank you. Support will look at it; only the pay your answer is about waits.",
            )
            return redirect("tutoring:detail", pk=pk)
    session = _session(viewer, pk)
    context = _detail_context(viewer, session)
    context["dispute_form"] = form
    context["dispute_open"] = True
    return render(request, "tutoring/detail.html", context, status=422)


# -- Actions: accept, decline, cancel, remove ----------------------------------------------


@login_required
@require_POST
@refusals_as_pages
def accept(request: HtmxRequest, pk: int) -> HttpResponse:
    def run(viewer: User) -> str:
        session = scheduling.accept_session(session_id=pk, actor=viewer)
        if session.tutor_id == viewer.pk:
            return "You accepted the request; the session is scheduled."
        return "You accepted the invitation."

    return act_and_redirect(request, run, to=reverse("tutoring:detail", kwargs={"pk": pk}))


@login_required
@require_POST
@refusals_as_pages
def decline(request: HtmxRequest, pk: int) -> HttpResponse:
    message = request.POST.get("message", "")

    def run(viewer: User) -> str:
        session = scheduling.decline_session(session_id=pk, actor=viewer, message=message)
        if session.tutor_id == viewer.pk:
            return "You declined the request."
        return "You declined the invitation."

    return act_and_redirect(request, run, to=reverse("tutoring:detail", kwargs={"pk": pk}))


@login_required
@require_POST
@refusals_as_pages
def cancel(request: HtmxRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")

    def run(viewer: User) -> str:
        session = scheduling.cancel_session(session_id=pk, actor=viewer, reason=reason)
        if session.status == Status.CANCELED:
            return "The session is canceled; everyone on it has been told why."
        return "You left the session; the others have been told."

    return act_and_redirect(request, run, to=reverse("tutoring:detail", kwargs={"pk": pk}))


@login_required
@require_POST
@refusals_as_pages
def remove_participant(request: HtmxRequest, pk: int, user_id: int) -> HttpResponse:
    def run(viewer: User) -> str:
        scheduling.remove_participant(session_id=pk, actor=viewer, user_id=user_id)
        removed = User.objects.filter(pk=user_id).first()
        return f"{removed.display_name if removed else 'The student'} was removed from the session."

    return act_and_redirect(request, run, to=reverse("tutoring:detail", kwargs={"pk": pk}))


# -- Complete Session ----------------------------------------------------------------------


@login_required
@refusals_as_pages
def complete(request: HtmxRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    session = _session(viewer, pk)
    on_behalf = session.tutor_id != viewer.pk
    if on_behalf and not viewer.is_support_agent:
        raise Forbidden("Only the session's tutor can complete it.")
    if request.method == "POST":
        return _submit_completion(request, viewer, session, on_behalf=on_behalf)

    if session.status == Status.COMPLETED:
        messages.info(request, "This session is already completed; here is what was logged.")
        return redirect("tutoring:detail", pk=pk)
    blocker = selectors.completion_blocker(session, viewer)
    suggestion = selectors.time_suggestion(session)
    form = CompletionForm(
        initial={
            "idempotency_key": uuid.uuid4().hex,
            "minutes": suggestion.minutes if suggestion else "",
        },
        on_behalf=on_behalf,
        accepted_students=_accepted_students(session),
    )
    return _render_form(
        request,
        session,
        form,
        blocker=blocker,
        measured_hint=suggestion.hint if suggestion else "",
    )


def _accepted_students(session: Session) -> list[tuple[int, str]]:
    return [
        (p.user_id, p.user.display_name)
        for p in session.participants.all()
        if p.state == ParticipantState.ACCEPTED
    ]


def _submit_completion(
    request: HtmxRequest, viewer: User, session: Session, *, on_behalf: bool
) -> HttpResponse:
    form = CompletionForm(
        request.POST, on_behalf=on_behalf, accepted_students=_accepted_students(session)
    )
    if not form.is_valid():
        # Only Django's own checks (such as a NUL character) can fail here.
        return _render_form(
            request, session, form, error="Some answers could not be read; see below.", status=400
        )
    try:
        result = complete_session(
            session_id=session.pk,
            actor=viewer,
            minutes=form.cleaned_data["minutes"],
            recap=form.recap(),
            idempotency_key=form.cleaned_data["idempotency_key"] or None,
            on_behalf_reason=form.cleaned_data.get("on_behalf_reason") if on_behalf else None,
            no_show_user_ids=form.cleaned_data.get("no_shows") or (),
            confirm_time=form.cleaned_data.get("confirm_time", False),
        )
    except (NotFound, Forbidden):
        raise
    except Conflict as exc:
        if exc.code != "already_completed":
            return _refused(request, session, form, exc)
        messages.info(request, exc.message)
        return _to_details(request, session)
    except DomainError as exc:
        return _refused(request, session, form, exc)

    earning = result.completion.earning
    amount = format_cents(earning.amount_cents, earning.currency)
    if on_behalf:
        done = f"Session completed for {session.tutor.display_name} — {amount} deposited to "
        done += "their Studyhall account."
    else:
        done = f"Session completed — {amount} deposited to your Studyhall account."
    messages.success(request, done)
    return _to_details(request, session)


def _refused(
    request: HtmxRequest, session: Session, form: CompletionForm, exc: DomainError
) -> HttpResponse:
    """Show the service's refusal above the form, with everything that was typed kept."""
    form.refuse(exc)
    return _render_form(
        request,
        session,
        form,
        error=exc.message,
        measured_hint=suggestion.hint if (suggestion := selectors.time_suggestion(session)) else "",
        status=exc.http_status,
        late_log_url=late_log_url(session.pk, form.data) if exc.code == GRACE_EXPIRED else "",
    )


def _to_details(request: HtmxRequest, session: Session) -> HttpResponse:
    url = reverse("tutoring:detail", kwargs={"pk": session.pk})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _render_form(
    request: HtmxRequest,
    session: Session,
    form: CompletionForm,
    *,
    error: str = "",
    blocker: DomainError | None = None,
    measured_hint: str = "",
    status: int = 200,
    late_log_url: str = "",
) -> HttpResponse:
    minimum = session.organization.min_recap_chars
    counted = recap_length(form.answers())
    context = {
        "session": session,
        "form": form,
        "error": error,
        "blocker": blocker,
        "min_chars": minimum,
        "count_text": recap_count_text(counted, minimum),
        "count_met": counted >= minimum,
        "measured_hint": measured_hint,
        "late_log_url": late_log_url,
    }
    template = "tutoring/complete.html"
    if request.htmx and request.method == "POST":
        template += "#completion-form"
    return render(request, template, context, status=status)
