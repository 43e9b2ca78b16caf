"""URLs of the risk API: each aggregate in its own module (`api/<aggregate>.py`) with its `urlpatterns`."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
