from django.urls import path

from studyhall.identity import views

app_name = "identity"
urlpatterns = [
    path("", views.my_data, name="my_data"),
    path("download/", views.download_my_data, name="download"),
    path("people/<int:user_id>/erase/", views.erase_person, name="erase_person"),
    path("erased/", views.erased, name="erased"),
]
