"""URLs of the trade-desk API: each resource in its own module (`api/<resource>.py`) with its
`urlpatterns`."""

from django.urls import URLPattern

from apps.tradedesk.api import availabilities, market, requirements

urlpatterns: list[URLPattern] = []
urlpatterns += requirements.urlpatterns
urlpatterns += availabilities.urlpatterns
urlpatterns += market.urlpatterns
