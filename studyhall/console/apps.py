from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "studyhall.console"
    label = "console"

    def ready(self) -> None:
        from studyhall.console import demo, nav
        from studyhall.console.views import programs
        from studyhall.core.demo import demo_seeded
        from studyhall.web.panels import Slot, register

        nav.register_defaults()
        nav.register_home_panel(
            "programs",
            nav.HomePanel("console/_home_programs.html", programs.home_panel, order=10),
        )
        demo_seeded.connect(demo.seed_history, dispatch_uid="console.demo_history")
        # The session page tells an org admin where to decide a report of an absent tutor.
        register(Slot.SESSION_AFTER_FACTS, "console/_session_absence_link.html")
