from django.urls import path

from studyhall.calls import views

app_name = "calls"
urlpatterns = [
    path("<int:pk>/classroom/", views.classroom, name="classroom"),
    path("<int:pk>/classroom/suggestion/", views.suggestion, name="suggestion"),
    path("<int:pk>/classroom/complete/", views.complete, name="complete"),
]
