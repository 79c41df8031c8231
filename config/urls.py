from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView

from studyhall.accounts.throttle import too_many_requests_page
from studyhall.api.v1 import api as api_v1
from studyhall.console.views import home as console_home
from studyhall.console.views import tutor as console_tutor

# The Django admin's own login would skip allauth's rate limits and second factor: it sends
# people to Studyhall's sign-in instead.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

# allauth answers its own rate limits with this page (it looks for `handler429` here).
handler429 = too_many_requests_page


def _operators_only(request: HttpRequest) -> bool:
    """The Django admin is for Studyhall's own operators; org admins use the console."""
    user = request.user
    return bool(user.is_active and user.is_superuser)


admin.site.has_permission = _operators_only  # type: ignore[method-assign]

handler403 = "studyhall.web.errors.permission_denied"
handler404 = "studyhall.web.errors.page_not_found"
handler500 = "studyhall.web.errors.server_error"

urlpatterns = [
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("", console_home.landing, name="landing"),
    path("accounts/", include("studyhall.identity.allauth_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
    path("sessions/", include("studyhall.tutoring.urls")),
    path("sessions/", include("studyhall.calls.urls")),
    path("earnings/", include("studyhall.ledger.urls")),
    path("support/", include("studyhall.support.urls")),
    path("notifications/", include("studyhall.notifications.urls")),
    path("settings/", include("studyhall.notifications.settings_urls")),
    path("settings/", include("studyhall.accounts.urls")),
    path("privacy/", include("studyhall.identity.urls")),
    path("calendar/", include("studyhall.calendars.urls")),
    path("console/", include("studyhall.console.urls")),
    path("settings/courses/", console_tutor.tutor_courses, name="tutor_courses"),
    path("console/", include("studyhall.feeds.urls")),
    path("console/", include("studyhall.identity.console_urls")),
]
