from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "studyhall.feeds"
    label = "feeds"

    def ready(self) -> None:
        from studyhall.console import nav
        from studyhall.feeds import signals  # noqa: F401  (connects the audit receiver)

        nav.register(nav.NavItem("Reports", "feeds:reports", 60))
        nav.register(nav.NavItem("Exports", "feeds:exports", 70))
        nav.register(nav.NavItem("Webhooks", "feeds:webhooks", 75))
        nav.register(nav.NavItem("Nightly feed", "feeds:feed", 77))
