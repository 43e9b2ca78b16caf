"""URLs of the organizations API: each resource in its own module (`api/<resource>.py`) with its
`urlpatterns`."""

from django.urls import URLPattern

from apps.organizations.api import bank_accounts, document_series, financial_years, gst_registrations, organizations

urlpatterns: list[URLPattern] = []
urlpatterns += organizations.urlpatterns
urlpatterns += gst_registrations.urlpatterns
urlpatterns += bank_accounts.urlpatterns
urlpatterns += financial_years.urlpatterns
urlpatterns += document_series.urlpatterns
