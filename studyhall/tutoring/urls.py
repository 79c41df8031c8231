from django.urls import path

from studyhall.tutoring import views

app_name = "tutoring"
urlpatterns = [
    path("", views.sessions, name="sessions"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/complete/", views.complete, name="complete"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/decline/", views.decline, name="decline"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path(
        "<int:pk>/participants/<int:user_id>/remove/",
        views.remove_participant,
        name="remove_participant",
    ),
]
