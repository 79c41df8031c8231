from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "studyhall.calendars"
    label = "calendars"
    verbose_name = "Calendar feeds"
