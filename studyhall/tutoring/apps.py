from django.apps import AppConfig


class TutoringConfig(AppConfig):
    name = "studyhall.tutoring"
    label = "tutoring"
