from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

admin.site.site_header = "Cotton ERP back office"
admin.site.site_title = "Cotton ERP back office"
admin.site.index_title = "Back office"

api_v1 = [
    path("", include("apps.core.api.urls")),
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.organizations.api.urls")),
    path("", include("apps.locations.api.urls")),
    path("", include("apps.commodities.api.urls")),
    path("", include("apps.partners.api.urls")),
    path("", include("apps.risk.api.urls")),
    path("", include("apps.tradedesk.api.urls")),
    path("", include("apps.matching.api.urls")),
    path("", include("apps.trades.api.urls")),
    path("", include("apps.events.api.urls")),
    path("", include("apps.webhooks.api.urls")),
    path("", include("apps.realtime.api.urls")),
]

urlpatterns = [
    # Before the admin's own URLs: KYC documents are served only through this scoped view.
    path("admin/", include("apps.partners.admin.documents")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/", include(api_v1)),
]

handler400 = "apps.core.views.bad_request"
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
