"""The online classroom's pages: the call itself, and "Log time & leave call" from inside it.

The call's real-time side (presence, signalling, chat) is the WebSocket in consumers.py; these
views render the page that runs it and take the tutor's completion from the pop-up.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from studyhall.calls.consumers import CAPTION_MAX_CHARS, CHAT_MAX_CHARS
from studyhall.calls.services import complete_from_call, join_refusal
from studyhall.core.errors import DomainError, Forbidden, NotFound
from studyhall.core.money import format_cents
from studyhall.tutoring import selectors as tutoring_selectors
from studyhall.tutoring.access import access_session
from studyhall.tutoring.forms import CompletionForm, recap_count_text
from studyhall.tutoring.handoff import GRACE_EXPIRED, late_log_url
from studyhall.tutoring.models import ParticipantState, Session
from studyhall.web.problems import domain_problem, problem
from studyhall.web.viewer import viewer_of


@login_required
@require_GET
def classroom(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    try:
        session = access_session(viewer, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return _closed(request, None, exc.message)
    refusal = join_refusal(viewer, session, now=timezone.now())
    if refusal:
        return _closed(request, session, refusal)

    is_tutor = session.tutor_id == viewer.pk
    suggestion = tutoring_selectors.time_suggestion(session) if is_tutor else None
    details_url = reverse("tutoring:detail", kwargs={"pk": session.pk})
    # Everyone who belongs in the call, so the page can say who has not come yet.
    students = session.participants.filter(state=ParticipantState.ACCEPTED).select_related("user")
    expected = [{"user_id": session.tutor_id, "name": session.tutor.display_name, "role": "tutor"}]
    expected += [
        {"user_id": p.user_id, "name": p.user.display_name, "role": "student"} for p in students
    ]
    config: dict[str, Any] = {
        "sessionId": session.pk,
        "socketPath": f"/ws/sessions/{session.pk}/classroom/",
        "detailsUrl": details_url,
        "completeUrl": reverse("calls:complete", kwargs={"pk": session.pk}) if is_tutor else None,
        "suggestionUrl": (
            reverse("calls:suggestion", kwargs={"pk": session.pk}) if is_tutor else None
        ),
        "isTutor": is_tutor,
        "userId": viewer.pk,
        # Chat times are shown in the account's time zone, as every page shows times.
        "timeZone": viewer.time_zone,
        "expected": expected,
        # The longest caption the room relays; the page cuts a longer phrase to it.
        "captionMaxChars": CAPTION_MAX_CHARS,
    }
    minimum = session.organization.min_recap_chars
    # The Complete Session form itself, so the pop-up asks and refuses as the page does.
    form = None
    if is_tutor:
        form = CompletionForm.for_session(
            session,
            auto_id="log-%s",
            initial={
                "idempotency_key": uuid.uuid4().hex,
                "minutes": suggestion.minutes if suggestion else "",
            },
        )
    return render(
        request,
        "calls/classroom.html",
        {
            "session": session,
            "is_tutor": is_tutor,
            "config": config,
            "details_url": details_url,
            "suggestion": suggestion,
            "chat_max_chars": CHAT_MAX_CHARS,
            "min_chars": minimum,
            "form": form,
            "count_text": recap_count_text(0, minimum),
            "measured_hint": suggestion.hint if suggestion else "",
            "measured_hint_slot": True,
        },
    )


def _closed(request: HttpRequest, session: Session | None, message: str) -> HttpResponse:
    return render(
        request, "calls/closed.html", {"session": session, "message": message}, status=403
    )


# -- Log time & leave call -----------------------------------------------------------------


@require_GET
def suggestion(request: HttpRequest, pk: int) -> HttpResponse:
    """The measured time as of now, for the pop-up as it opens (the call has gone on since
    the page loaded)."""
    if not request.user.is_authenticated:
        return problem(
            status=401, code="signed_out", detail="You have been signed out; sign in again."
        )
    viewer = viewer_of(request)
    try:
        session = access_session(viewer, pk)
        if session.tutor_id != viewer.pk:
            raise Forbidden("Only the session's tutor sees the measured time here.")
    except DomainError as exc:
        return domain_problem(exc)
    found = tutoring_selectors.time_suggestion(session)
    if found is None:
        return JsonResponse({"minutes": None, "hint": ""})
    return JsonResponse({"minutes": found.minutes, "hint": found.hint})


@require_POST
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    """The pop-up's submission: the Complete Session form, read as the page reads it, and the
    one completion service, which then ends the call for everyone still in it. Refusals are
    problem+json, as the API's are, plus the form fields to mark."""
    if not request.user.is_authenticated:
        return problem(
            status=401,
            code="signed_out",
            detail="You have been signed out; sign in again, then log the session.",
        )
    viewer = viewer_of(request)
    details_url = reverse("tutoring:detail", kwargs={"pk": pk})
    try:
        session = access_session(
            viewer, pk, queryset=tutoring_selectors.with_details(Session.objects.all())
        )
    except DomainError as exc:
        return domain_problem(exc)
    form = CompletionForm.for_session(session, request.POST)
    if not form.is_valid():
        # Only Django's own checks (such as a NUL character) can fail here.
        unreadable = "; ".join(
            f"{form.fields[key].label}: {' '.join(map(str, errors))}"
            for key, errors in form.errors.items()
        )
        return problem(
            status=400,
            code="invalid_input",
            detail=f"Some answers could not be read. {unreadable}",
            fields=list(form.errors),
        )
    try:
        with transaction.atomic(durable=True):
            result = complete_from_call(
                session_id=session.pk,
                actor=viewer,
                minutes=form.cleaned_data["minutes"],
                recap=form.recap(),
                idempotency_key=form.cleaned_data["idempotency_key"] or None,
                no_show_user_ids=form.cleaned_data.get("no_shows") or (),
                confirm_time=form.cleaned_data.get("confirm_time", False),
            )
    except DomainError as exc:
        # Already completed (another tab, or Support): nothing left to do here but go look.
        redirect = details_url if exc.code == "already_completed" else None
        # Logging has closed: the refusal links to Support's late-log request, filled in.
        handoff = late_log_url(session.pk, form.data) if exc.code == GRACE_EXPIRED else None
        return domain_problem(exc, fields=form.refuse(exc), redirect=redirect, late_log_url=handoff)

    earning = result.completion.earning
    amount = format_cents(earning.amount_cents, earning.currency)
    done = f"Session completed — {amount} deposited to your Studyhall account."
    # Shown again on the session page, where the script takes the tutor next.
    messages.success(request, done)
    return JsonResponse({"redirect": details_url, "message": done})
