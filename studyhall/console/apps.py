from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "studyhall.console"
    label = "console"

    def ready(self) -> None:
        from studyhall.console import demo, nav
        from studyhall.console.views import programs
        from studyhall.core.demo import demo_seeded

        nav.register_defaults()
        nav.register_home_panel(
            "programs",
            nav.HomePanel("console/_home_programs.html", programs.home_panel, order=10),
        )
        demo_seeded.connect(demo.seed_history, dispatch_uid="console.demo_history")
