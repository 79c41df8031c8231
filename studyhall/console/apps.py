from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "studyhall.console"
    label = "console"

    def ready(self) -> None:
        from studyhall.console import demo, nav
        from studyhall.core.demo import demo_seeded

        nav.register_defaults()
        demo_seeded.connect(demo.seed_history, dispatch_uid="console.demo_history")
