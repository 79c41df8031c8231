from django.urls import path

from studyhall.accounts import token_views

app_name = "accounts"
urlpatterns = [
    path("api-tokens/", token_views.api_tokens, name="api_tokens"),
    path("api-tokens/new/", token_views.create_api_token, name="create_api_token"),
    path("api-tokens/<int:pk>/revoke/", token_views.revoke_api_token, name="revoke_api_token"),
]
