from django.urls import path

from apps.locations.api import views

urlpatterns = [
    path("locations/", views.LocationCollectionApi.as_view(), name="locations"),
    path("locations/suggest/", views.LocationSuggestApi.as_view(), name="locations-suggest"),
    path("locations/<uuid:location_id>/", views.LocationDetailApi.as_view(), name="location"),
    path("locations/<uuid:location_id>/deactivate", views.LocationDeactivateApi.as_view(), name="location-deactivate"),
]
