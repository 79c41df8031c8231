from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "studyhall.console"
    label = "console"

    def ready(self) -> None:
        from studyhall.console import nav

        nav.register_defaults()
