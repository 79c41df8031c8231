from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "studyhall.api"
    label = "api"
