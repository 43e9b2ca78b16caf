from django.urls import path

from apps.webhooks.api import views

urlpatterns = [
    path("webhooks/endpoints/", views.EndpointCollectionApi.as_view(), name="webhooks-endpoints"),
    path("webhooks/endpoints/<uuid:endpoint_id>/", views.EndpointDetailApi.as_view(), name="webhooks-endpoint"),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/rotate-secret",
        views.EndpointRotateSecretApi.as_view(),
        name="webhooks-endpoint-rotate-secret",
    ),
    path("webhooks/endpoints/<uuid:endpoint_id>/test", views.EndpointTestApi.as_view(), name="webhooks-endpoint-test"),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/deliveries/",
        views.EndpointDeliveriesApi.as_view(),
        name="webhooks-endpoint-deliveries",
    ),
]
