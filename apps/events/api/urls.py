"""URLs of the events API: each resource in its own module (`api/<resource>.py`) with its
`urlpatterns`."""

from django.urls import URLPattern

from apps.events.api import events

urlpatterns: list[URLPattern] = []
urlpatterns += events.urlpatterns
