from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "studyhall.orgs"
    label = "orgs"

    def ready(self) -> None:
        from studyhall.orgs import signals  # noqa: F401  (connects the receivers)
