from django.urls import path

from studyhall.calendars import views

app_name = "calendars"
urlpatterns = [
    path("feed/regenerate/", views.regenerate, name="regenerate"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
    path("sessions/<int:pk>.ics", views.session_ics, name="session_ics"),
]
