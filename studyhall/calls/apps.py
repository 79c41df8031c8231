from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "studyhall.calls"
    label = "calls"
