from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "studyhall.identity"
    label = "identity"

    def ready(self) -> None:
        # Connect the receivers: joining by email domain, the second-factor check at sign-in.
        from studyhall.console import nav
        from studyhall.identity import second_factor, signals  # noqa: F401
        from studyhall.web.panels import Slot, register

        register(Slot.CONSOLE_PERSON, "identity/_console_person_erase.html")

        nav.register(nav.NavItem("Single sign-on", "identity_console:single_sign_on", 84))
        nav.register(nav.NavItem("Privacy", "identity_console:privacy", 85))
