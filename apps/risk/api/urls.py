"""URLs of the risk API: each aggregate in its own module (`api/<aggregate>.py`) with its `urlpatterns`."""

from django.urls import URLPattern

from apps.risk.api import exposure, limits

urlpatterns: list[URLPattern] = []
urlpatterns += limits.urlpatterns
urlpatterns += exposure.urlpatterns
