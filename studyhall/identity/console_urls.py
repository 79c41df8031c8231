from django.urls import path

from studyhall.identity import console_views

app_name = "identity_console"
# Console pages take the organization as `org_id`, like every console URL.
urlpatterns = [
    path("<int:org_id>/privacy/", console_views.privacy, name="privacy"),
    path("<int:org_id>/single-sign-on/", console_views.single_sign_on, name="single_sign_on"),
]
