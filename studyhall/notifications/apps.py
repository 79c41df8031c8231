from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "studyhall.notifications"
    label = "notifications"
