from django.urls import path

from studyhall.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.account_settings, name="settings"),
    path("time-zone/", views.time_zone, name="time_zone"),
    path("email/", views.email_preferences, name="email_preferences"),
]
