from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "studyhall.orgs"
    label = "orgs"
