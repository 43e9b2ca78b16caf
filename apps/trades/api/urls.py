"""URLs of the trades API: each aggregate in its own module (`api/<aggregate>.py`) with its `urlpatterns`."""

from django.urls import URLPattern

from apps.trades.api import negotiations, trades

urlpatterns: list[URLPattern] = [*negotiations.urlpatterns, *trades.urlpatterns]
