"""URLs of the partners API: each resource in its own module (`api/<resource>.py`) with its
`urlpatterns`."""

from django.urls import URLPattern

from apps.partners.api import (
    amendments,
    applications,
    branches,
    directory,
    documents,
    employees,
    partners,
    status,
    vehicles,
)

urlpatterns: list[URLPattern] = []
for module in (applications, partners, directory, employees, status, documents, branches, vehicles, amendments):
    urlpatterns += module.urlpatterns
