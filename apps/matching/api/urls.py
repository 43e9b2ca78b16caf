"""URLs of the matching API: each aggregate in its own module (`api/<aggregate>.py`) with its `urlpatterns`."""

from django.urls import URLPattern

from apps.matching.api import matches

urlpatterns: list[URLPattern] = [*matches.urlpatterns]
