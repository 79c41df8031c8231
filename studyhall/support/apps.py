from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "studyhall.support"
    label = "support"

    def ready(self) -> None:
        from studyhall.web.panels import Slot, register

        # The chat bubble on every page, and what Support offers on sessions.
        register(Slot.CHROME_HEAD, "support/_head.html")
        register(Slot.CHROME_BODY_END, "support/_bubble.html")
        register(Slot.SESSION_AFTER_COMPLETION, "support/_session_support.html")
        register(Slot.SESSION_ROW, "support/_session_row.html")
