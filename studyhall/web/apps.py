from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "studyhall.web"
    label = "web"
    verbose_name = "Web pages"
