"""Privacy pages: a person downloads their own data; an org admin or Support erases someone."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from studyhall.accounts.models import User
from studyhall.core.errors import DomainError, Forbidden, NotFound
from studyhall.identity import download, erasure
from studyhall.web.refusals import forbidden_page
from studyhall.web.viewer import viewer_of


@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/my_data.html", {})


@login_required
@require_GET
def download_my_data(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    response = HttpResponse(download.build_zip(viewer), content_type="application/zip")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="studyhall-data-{stamp}.zip"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def erase_person(request: HttpRequest, user_id: int) -> HttpResponse:
    viewer = viewer_of(request)
    person = User.objects.filter(pk=user_id).first()
    try:
        if person is None:
            raise NotFound("There is no such person.")
        erasure.check_may_erase(actor=viewer, person=person)
        if request.method == "POST":
            if request.POST.get("confirm") != person.email:
                return render(
                    request,
                    "identity/erase.html",
                    {"person": person, "error": "Type the person's email exactly to confirm."},
                    status=400,
                )
            with transaction.atomic(durable=True):
                erasure.erase_person(actor=viewer, user_id=person.pk)
            messages.success(request, "The person is erased. Their sessions and payments stay.")
            return redirect("identity:erased")
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        return forbidden_page(request, exc.message)
    except DomainError as exc:
        return render(
            request, "identity/erase.html", {"person": person, "error": exc.message}, status=422
        )
    return render(request, "identity/erase.html", {"person": person})


@login_required
@require_GET
def erased(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/erased.html", {})
