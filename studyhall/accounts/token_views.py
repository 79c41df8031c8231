"""Account settings → API tokens: list them, make one (shown once), revoke one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from studyhall.accounts import tokens
from studyhall.accounts.forms import ApiTokenForm
from studyhall.accounts.models import ApiToken, User
from studyhall.accounts.viewer import viewer_of
from studyhall.core.errors import InvalidInput, NotFound

PER_PAGE = 20
# The clear token survives exactly one redirect, in the viewer's own session.
NEW_TOKEN_KEY = "accounts.new_api_token"


@login_required
@require_GET
def api_tokens(request: HttpRequest) -> HttpResponse:
    return _render(request, viewer_of(request), ApiTokenForm(viewer=viewer_of(request)))


def _render(
    request: HttpRequest, viewer: User, form: ApiTokenForm, status: int = 200
) -> HttpResponse:
    rows = ApiToken.objects.filter(user=viewer).order_by("-created_at", "-pk")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/api_tokens.html",
        {
            "page": page,
            "form": form,
            "now": timezone.now(),
            "new_token": request.session.pop(NEW_TOKEN_KEY, None),
        },
        status=status,
    )


@login_required
@require_POST
def create_api_token(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    form = ApiTokenForm(request.POST, viewer=viewer)
    if not form.is_valid():
        return _render(request, viewer, form, status=400)
    try:
        with transaction.atomic(durable=True):
            issued = tokens.create_token(
                actor=viewer,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_in_days=int(form.cleaned_data["expires_in_days"]),
            )
    except InvalidInput as exc:
        form.add_error(
            exc.extra.get("field") if exc.extra.get("field") in form.fields else None, exc.message
        )
        return _render(request, viewer, form, status=400)
    request.session[NEW_TOKEN_KEY] = {"name": issued.row.name, "token": issued.token}
    return redirect(reverse("accounts:api_tokens") + "#new-token")


@login_required
@require_POST
def revoke_api_token(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        with transaction.atomic(durable=True):
            row = tokens.revoke_token(actor=viewer_of(request), token_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, f"The token {row.name!r} is revoked; it no longer works.")
    return redirect("accounts:api_tokens")
