from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "studyhall.identity"
    label = "identity"

    def ready(self) -> None:
        from studyhall.identity import signals  # noqa: F401  (connects the receivers)
