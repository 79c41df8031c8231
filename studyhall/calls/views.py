"""The online classroom's pages: the call itself, and "Log time & leave call" from inside it.

The call's real-time side (presence, signalling, chat) is the WebSocket in consumers.py; these
views render the page that runs it and take the tutor's completion from the pop-up.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from studyhall.calls.consumers import CHAT_MAX_CHARS
from studyhall.calls.services import complete_from_call, join_refusal
from studyhall.core.errors import DomainError, Forbidden, NotFound
from studyhall.core.money import format_cents
from studyhall.tutoring import selectors as tutoring_selectors
from studyhall.tutoring.access import access_session
from studyhall.tutoring.models import ParticipantState, Session
from studyhall.tutoring.rules import DURATION_OPTIONS, RECAP_ANSWER_MAX_CHARS, RECAP_PROMPTS
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
        "expected": expected,
    }
    return render(
        request,
        "calls/classroom.html",
        {
            "session": session,
            "is_tutor": is_tutor,
            "config": config,
            "details_url": details_url,
            "duration_options": DURATION_OPTIONS,
            "suggestion": suggestion,
            "recap_prompts": RECAP_PROMPTS,
            "recap_max_chars": RECAP_ANSWER_MAX_CHARS,
            "chat_max_chars": CHAT_MAX_CHARS,
            "min_chars": session.organization.min_recap_chars,
            "idempotency_key": uuid.uuid4().hex,
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
        return _refusal("signed_out", "You have been signed out; sign in again.", 401)
    viewer = viewer_of(request)
    try:
        session = access_session(viewer, pk)
        if session.tutor_id != viewer.pk:
            raise Forbidden("Only the session's tutor sees the measured time here.")
    except DomainError as exc:
        return _refusal(exc.code, exc.message, exc.http_status)
    found = tutoring_selectors.time_suggestion(session)
    if found is None:
        return JsonResponse({"minutes": None, "hint": ""})
    return JsonResponse({"minutes": found.minutes, "hint": found.hint})


# Which field of the pop-up a refusal is about, so the page can mark it.
FIELD_OF_CODE = {"invalid_duration": ["minutes"]}


@require_POST
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    """The pop-up's submission: complete the session (every completion rule applies), then
    end the call for everyone still in it. Answers JSON for the page's script."""
    if not request.user.is_authenticated:
        return _refusal(
            "signed_out", "You have been signed out; sign in again, then log the session.", 401
        )
    viewer = viewer_of(request)
    details_url = reverse("tutoring:detail", kwargs={"pk": pk})
    try:
        result = complete_from_call(
            session_id=pk,
            actor=viewer,
            minutes=_minutes(request.POST.get("minutes", "")),
            recap={key: request.POST.get(key, "") for key in RECAP_PROMPTS},
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except DomainError as exc:
        # Already completed (another tab, or Support): nothing left to do here but go look.
        redirect = details_url if exc.code == "already_completed" else None
        return _refusal(exc.code, exc.message, exc.http_status, _fields(exc), redirect)

    earning = result.completion.earning
    amount = format_cents(earning.amount_cents, earning.currency)
    done = f"Session completed — {amount} deposited to your Studyhall account."
    # Shown again on the session page, where the script takes the tutor next.
    messages.success(request, done)
    return JsonResponse({"redirect": details_url, "message": done})


def _minutes(raw: str) -> int | str | None:
    """A whole number when it looks like one; anything else goes to the service as sent,
    which refuses it with `invalid_duration` (as the Complete Session form does)."""
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= 3:
        return int(raw)
    return raw


def _fields(exc: DomainError) -> list[str]:
    if exc.code in FIELD_OF_CODE:
        return FIELD_OF_CODE[exc.code]
    if exc.code == "recap_incomplete":
        return [key for key in exc.extra.get("missing", []) if key in RECAP_PROMPTS]
    named = exc.extra.get("field")
    return [key for key, label in RECAP_PROMPTS.items() if named in (key, label)]


def _refusal(
    code: str,
    message: str,
    status: int,
    fields: list[str] | None = None,
    redirect: str | None = None,
) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message, "fields": fields or []}
    if redirect:
        body["redirect"] = redirect
    return JsonResponse(body, status=status)
