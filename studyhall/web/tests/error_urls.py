"""The site's URLs plus one view that fails, for the error-page tests."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler403, handler404, handler500
from config.urls import urlpatterns as site_patterns


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the database fell over")


__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
urlpatterns = [path("boom/", boom), *site_patterns]
