from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "studyhall.feeds"
    label = "feeds"

    def ready(self) -> None:
        from studyhall.console import nav

        nav.register(nav.NavItem("Exports", "feeds:exports", 70))
