from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "studyhall.calendars"
    label = "calendars"
    verbose_name = "Calendar feeds"

    def ready(self) -> None:
        from studyhall.web.panels import Slot, register

        # "Add to calendar" under the session's facts.
        register(Slot.SESSION_AFTER_FACTS, "calendars/_add_to_calendar.html")
        # The feed's private address, and a way to replace it, on the Settings page.
        register(Slot.SETTINGS, "calendars/_settings_section.html")
