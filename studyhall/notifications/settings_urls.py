from django.urls import path

from studyhall.notifications import settings_views

app_name = "settings"
urlpatterns = [
    path("", settings_views.settings_page, name="page"),
    path("time-zone/", settings_views.time_zone, name="time_zone"),
    path("email/", settings_views.email_preferences, name="email_preferences"),
]
