from django.urls import path

from studyhall.feeds import views

app_name = "feeds"
urlpatterns = [
    path("<int:org_id>/exports/", views.exports_page, name="exports"),
    path("<int:org_id>/exports/<str:filename>", views.export_download, name="export"),
]
