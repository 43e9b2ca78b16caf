"""URLs of the commodities API: each resource in its own module (`api/<resource>.py`) with its
`urlpatterns`."""

from django.urls import URLPattern

from apps.commodities.api import commissions, commodities, conversions, parameters, schedules, terms, units, varieties

urlpatterns: list[URLPattern] = []
urlpatterns += units.urlpatterns
urlpatterns += commodities.urlpatterns
urlpatterns += varieties.urlpatterns
urlpatterns += parameters.urlpatterns
urlpatterns += schedules.urlpatterns
urlpatterns += conversions.urlpatterns
urlpatterns += commissions.urlpatterns
urlpatterns += terms.urlpatterns
