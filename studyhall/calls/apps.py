from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "studyhall.calls"
    label = "calls"

    def ready(self) -> None:
        from studyhall.web.panels import Slot, register

        # The classroom's Join button (or why it is closed) on the session page.
        register(Slot.SESSION_CLASSROOM, "calls/_session_classroom.html")
