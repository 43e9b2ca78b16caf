"""URLs of the webhooks API: each resource in its own module (`api/<resource>.py`) with its
`urlpatterns`."""

from django.urls import URLPattern

from apps.webhooks.api import endpoints

urlpatterns: list[URLPattern] = []
urlpatterns += endpoints.urlpatterns
