from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "studyhall.support"
    label = "support"
