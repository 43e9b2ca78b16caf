"""URLs of the locations API: each resource in its own module (`api/<resource>.py`) with its
`urlpatterns`."""

from django.urls import URLPattern

from apps.locations.api import locations

urlpatterns: list[URLPattern] = []
urlpatterns += locations.urlpatterns
