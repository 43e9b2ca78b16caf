"""URLs of the partners API: onboarding and the partner record here, each further resource in its
own module (`api/<resource>.py`) with its `urlpatterns`."""

from django.urls import path

from apps.partners.api import amendments, branches, directory, documents, employees, status, vehicles, views

A = "partners/applications/<uuid:application_id>"

urlpatterns = [
    path("partners/applications/", views.ApplicationCollectionApi.as_view(), name="partner-applications"),
    path(f"{A}/", views.ApplicationDetailApi.as_view(), name="partner-application"),
    path(f"{A}/documents/", views.DocumentUploadApi.as_view(), name="partner-application-documents"),
    path(f"{A}/submit", views.ApplicationSubmitApi.as_view(), name="partner-application-submit"),
    path(f"{A}/withdraw", views.ApplicationWithdrawApi.as_view(), name="partner-application-withdraw"),
    path("partners/<uuid:partner_id>", views.PartnerDetailApi.as_view(), name="partner"),
]
urlpatterns += directory.urlpatterns
urlpatterns += employees.urlpatterns
urlpatterns += status.urlpatterns
urlpatterns += documents.urlpatterns
urlpatterns += branches.urlpatterns
urlpatterns += vehicles.urlpatterns
urlpatterns += amendments.urlpatterns
