"""URLs of the realtime API: each resource in its own module (`api/<resource>.py`) with its
`urlpatterns`."""

from django.urls import URLPattern

from apps.realtime.api import tickets

urlpatterns: list[URLPattern] = []
urlpatterns += tickets.urlpatterns
