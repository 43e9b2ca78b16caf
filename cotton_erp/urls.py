from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

admin.site.site_header = "Cotton ERP back office"
admin.site.site_title = "Cotton ERP back office"
admin.site.index_title = "Back office"
# "View site" opens the desk board (there is no public site).
admin.site.site_url = "/admin/backoffice/board/"
# Lists need the width at 1400 px more than a second menu: the home page lists every screen.
admin.site.enable_nav_sidebar = False

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
    path("admin/backoffice/", include("apps.backoffice.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/", include(api_v1)),
]

handler400 = "apps.core.views.bad_request"
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
