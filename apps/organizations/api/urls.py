from django.urls import URLPattern, URLResolver, path

from apps.organizations.api import views

ORGANIZATION = "organizations/<uuid:organization_id>"

urlpatterns: list[URLPattern | URLResolver] = [
    path("organizations/", views.OrganizationListApi.as_view(), name="organizations"),
    path(f"{ORGANIZATION}/", views.OrganizationDetailApi.as_view(), name="organization"),
    path(
        f"{ORGANIZATION}/gst-registrations/",
        views.GstRegistrationCollectionApi.as_view(),
        name="organization-gst-registrations",
    ),
    path(
        f"{ORGANIZATION}/gst-registrations/<uuid:gst_registration_id>/",
        views.GstRegistrationDetailApi.as_view(),
        name="organization-gst-registration",
    ),
    path(f"{ORGANIZATION}/bank-accounts/", views.BankAccountCollectionApi.as_view(), name="organization-bank-accounts"),
    path(
        f"{ORGANIZATION}/bank-accounts/<uuid:bank_account_id>/",
        views.BankAccountDetailApi.as_view(),
        name="organization-bank-account",
    ),
    path(
        f"{ORGANIZATION}/financial-years/",
        views.FinancialYearCollectionApi.as_view(),
        name="organization-financial-years",
    ),
    path(
        f"{ORGANIZATION}/financial-years/<uuid:financial_year_id>/",
        views.FinancialYearDetailApi.as_view(),
        name="organization-financial-year",
    ),
    path(
        f"{ORGANIZATION}/financial-years/<uuid:financial_year_id>/activate",
        views.FinancialYearActivateApi.as_view(),
        name="organization-financial-year-activate",
    ),
    path(
        f"{ORGANIZATION}/document-series/",
        views.DocumentSeriesCollectionApi.as_view(),
        name="organization-document-series-list",
    ),
    path(
        f"{ORGANIZATION}/document-series/<uuid:document_series_id>/",
        views.DocumentSeriesDetailApi.as_view(),
        name="organization-document-series",
    ),
]
