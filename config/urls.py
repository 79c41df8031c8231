from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from studyhall.api.v1 import api as api_v1

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tutoring:sessions", permanent=False)),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
    path("sessions/", include("studyhall.tutoring.urls")),
    path("sessions/", include("studyhall.calls.urls")),
    path("earnings/", include("studyhall.ledger.urls")),
    path("support/", include("studyhall.support.urls")),
    path("notifications/", include("studyhall.notifications.urls")),
    path("settings/", include("studyhall.accounts.urls")),
    path("calendar/", include("studyhall.calendars.urls")),
]
