from django.urls import path

app_name = "tutoring"
urlpatterns: list = []
