"""Webhook endpoints API: one view class per operation.

Two operations that share a path (list and create; retrieve, update and delete) are composed
into one routing class in urls.py; each operation keeps its own class, serializers and schema.
"""

from __future__ import annotations

from uuid import UUID

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.actors import request_actor
from apps.core.api.common import PAGE_PARAMETERS, cursor_page
from apps.webhooks.models import DeliveryStatus
from apps.webhooks.selectors import deliveries_of_endpoint, endpoint_get, endpoints_visible_to
from apps.webhooks.services.endpoints import (
    MAX_EVENT_TYPES,
    endpoint_create,
    endpoint_delete,
    endpoint_rotate_secret,
    endpoint_send_test,
    endpoint_update,
)


class WebhookEndpointOutput(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    organization_id = serializers.UUIDField()
    partner_id = serializers.UUIDField(allow_null=True)
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField()
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then deliveries also carry a signature made with the previous secret."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookEndpointWithSecretOutput(WebhookEndpointOutput):
    secret = serializers.CharField(help_text="Shown only now: store it to verify signatures.")


class WebhookEndpointPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WebhookEndpointOutput(many=True)


class WebhookAttemptOutput(serializers.Serializer):
    attempt_number = serializers.IntegerField()
    attempted_at = serializers.DateTimeField()
    url = serializers.URLField()
    succeeded = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField(allow_null=True)
    response_excerpt = serializers.CharField(help_text="The first kilobyte of the answer.")
    error = serializers.CharField()


class WebhookDeliveryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    endpoint_id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempt_count = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    attempts = WebhookAttemptOutput(many=True, source="attempts.all")


class WebhookDeliveryPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WebhookDeliveryOutput(many=True)


TAG = "webhooks"


class WebhookApi(APIView):
    permission_classes = [IsAuthenticated]


class EndpointListApi(WebhookApi):
    @extend_schema(
        operation_id="webhooks_endpoints_list",
        tags=[TAG],
        parameters=PAGE_PARAMETERS,
        responses={200: WebhookEndpointPageOutput},
        summary="List webhook endpoints (newest first; secrets are never listed)",
    )
    def get(self, request: Request) -> Response:
        return cursor_page(request, endpoints_visible_to(request_actor(request)), WebhookEndpointOutput, view=self)


class EndpointCreateApi(WebhookApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WebhookEndpointCreateInput"

        url = serializers.URLField(max_length=2000)
        event_types = serializers.ListField(
            child=serializers.CharField(max_length=100),
            min_length=1,
            max_length=MAX_EVENT_TYPES,
            help_text="Exact types (`tradedesk.availability.approved`), wildcards (`tradedesk.*`) or `*`.",
        )
        description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        is_active = serializers.BooleanField(required=False, default=True)

    @extend_schema(
        operation_id="webhooks_endpoints_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: WebhookEndpointWithSecretOutput},
        summary="Create a webhook endpoint (the response shows its secret, once)",
    )
    def post(self, request: Request) -> Response:
        data = EndpointCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = endpoint_create(actor=request_actor(request), **data.validated_data)
        return Response(WebhookEndpointWithSecretOutput(endpoint).data, status=201)


class EndpointRetrieveApi(WebhookApi):
    @extend_schema(
        operation_id="webhooks_endpoints_retrieve",
        tags=[TAG],
        responses={200: WebhookEndpointOutput},
        summary="Read a webhook endpoint",
    )
    def get(self, request: Request, endpoint_id: UUID) -> Response:
        endpoint = endpoint_get(user=request_actor(request), endpoint_id=endpoint_id)
        return Response(WebhookEndpointOutput(endpoint).data)


class EndpointUpdateApi(WebhookApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WebhookEndpointUpdateInput"

        url = serializers.URLField(max_length=2000, required=False)
        event_types = serializers.ListField(
            child=serializers.CharField(max_length=100),
            min_length=1,
            max_length=MAX_EVENT_TYPES,
            required=False,
        )
        description = serializers.CharField(max_length=500, required=False, allow_blank=True)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(
        operation_id="webhooks_endpoints_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: WebhookEndpointOutput},
        summary="Change a webhook endpoint's URL, event types, description or active flag",
    )
    def patch(self, request: Request, endpoint_id: UUID) -> Response:
        data = EndpointUpdateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = endpoint_update(actor=request_actor(request), endpoint_id=endpoint_id, **data.validated_data)
        return Response(WebhookEndpointOutput(endpoint).data)


class EndpointDeleteApi(WebhookApi):
    @extend_schema(
        operation_id="webhooks_endpoints_destroy",
        tags=[TAG],
        responses={204: None},
        summary="Delete a webhook endpoint and its delivery history",
    )
    def delete(self, request: Request, endpoint_id: UUID) -> Response:
        endpoint_delete(actor=request_actor(request), endpoint_id=endpoint_id)
        return Response(status=204)


class EndpointRotateSecretApi(WebhookApi):
    @extend_schema(
        operation_id="webhooks_endpoints_rotate_secret",
        tags=[TAG],
        request=None,
        responses={200: WebhookEndpointWithSecretOutput},
        summary="Rotate the secret (the new one is shown once; the old one signs for 24 more hours)",
    )
    def post(self, request: Request, endpoint_id: UUID) -> Response:
        endpoint = endpoint_rotate_secret(actor=request_actor(request), endpoint_id=endpoint_id)
        return Response(WebhookEndpointWithSecretOutput(endpoint).data)


class EndpointTestApi(WebhookApi):
    @extend_schema(
        operation_id="webhooks_endpoints_test",
        tags=[TAG],
        request=None,
        responses={202: WebhookDeliveryOutput},
        summary="Send a `webhooks.endpoint.test` event to this endpoint only",
    )
    def post(self, request: Request, endpoint_id: UUID) -> Response:
        delivery = endpoint_send_test(actor=request_actor(request), endpoint_id=endpoint_id)
        return Response(WebhookDeliveryOutput(delivery).data, status=202)


class EndpointDeliveriesApi(WebhookApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WebhookDeliveryFilter"

        status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)

    @extend_schema(
        operation_id="webhooks_endpoints_deliveries_list",
        tags=[TAG],
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("status", str, enum=DeliveryStatus.values, description="Only deliveries in this state."),
        ],
        responses={200: WebhookDeliveryPageOutput},
        summary="Deliveries to this endpoint with their attempts (newest first)",
    )
    def get(self, request: Request, endpoint_id: UUID) -> Response:
        filters = EndpointDeliveriesApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        deliveries = deliveries_of_endpoint(
            user=request_actor(request), endpoint_id=endpoint_id, status=filters.validated_data.get("status")
        )
        return cursor_page(request, deliveries, WebhookDeliveryOutput, view=self)


# Routing classes for paths that carry more than one operation.


class EndpointCollectionApi(EndpointListApi, EndpointCreateApi):
    pass  # GET lists, POST creates (no docstring: the schema takes each operation's own)


class EndpointDetailApi(EndpointRetrieveApi, EndpointUpdateApi, EndpointDeleteApi):
    pass  # GET reads, PATCH updates, DELETE deletes


urlpatterns = [
    path("webhooks/endpoints/", EndpointCollectionApi.as_view(), name="webhooks-endpoints"),
    path("webhooks/endpoints/<uuid:endpoint_id>/", EndpointDetailApi.as_view(), name="webhooks-endpoint"),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/rotate-secret",
        EndpointRotateSecretApi.as_view(),
        name="webhooks-endpoint-rotate-secret",
    ),
    path("webhooks/endpoints/<uuid:endpoint_id>/test", EndpointTestApi.as_view(), name="webhooks-endpoint-test"),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/deliveries/",
        EndpointDeliveriesApi.as_view(),
        name="webhooks-endpoint-deliveries",
    ),
]
