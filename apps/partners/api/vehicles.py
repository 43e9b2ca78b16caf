"""Vehicles of a transporter: read by its members and its organization's staff, written by the
owner and staff with the change capability (services.vehicles)."""

from __future__ import annotations

from uuid import UUID

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.requests import request_user
from apps.core.api.common import PAGE_PARAMETERS
from apps.core.pagination import CappedCursorPagination
from apps.partners import selectors
from apps.partners.api.branches import ACTIVE_PARAMETER, active_filter
from apps.partners.api.serializers import TAG
from apps.partners.models import VehicleType
from apps.partners.services import vehicles as services
from apps.partners.services.branches import ensure_can_change_partner


class VehicleOutput(serializers.Serializer):
    id = serializers.UUIDField()
    partner_id = serializers.UUIDField()
    registration_number = serializers.CharField()
    vehicle_type = serializers.ChoiceField(choices=VehicleType.choices)
    capacity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    insurance_valid_until = serializers.DateField(allow_null=True)
    fitness_valid_until = serializers.DateField(allow_null=True)
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class VehiclePageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = VehicleOutput(many=True)


class VehicleUpdateInput(serializers.Serializer):
    """Every field is optional (PATCH); the registration number never changes."""

    vehicle_type = serializers.ChoiceField(choices=VehicleType.choices)
    capacity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    insurance_valid_until = serializers.DateField(
        required=False, allow_null=True, help_text="Not in the past when given."
    )
    fitness_valid_until = serializers.DateField(
        required=False, allow_null=True, help_text="Not in the past when given."
    )


class VehicleCreateInput(VehicleUpdateInput):
    registration_number = serializers.CharField(
        max_length=20, help_text="e.g. GJ03AB1234; spaces and dashes are ignored, letters upper-cased."
    )


class VehiclePage(CappedCursorPagination):
    ordering = ("created_at", "id")


class VehicleCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="partners_vehicles_list",
        parameters=[*PAGE_PARAMETERS, ACTIVE_PARAMETER],
        responses=VehiclePageOutput,
    )
    def get(self, request: Request, partner_id: UUID) -> Response:
        vehicles = selectors.vehicles_of_partner(request_user(request), partner_id, is_active=active_filter(request))
        paginator = VehiclePage()
        page = paginator.paginate_queryset(vehicles, request, view=self)
        return paginator.get_paginated_response(VehicleOutput(page, many=True).data)

    @extend_schema(
        tags=[TAG], operation_id="partners_vehicle_create", request=VehicleCreateInput, responses={201: VehicleOutput}
    )
    def post(self, request: Request, partner_id: UUID) -> Response:
        ensure_can_change_partner(request_user(request), selectors.partner_get(request_user(request), partner_id))
        data = VehicleCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        vehicle = services.vehicle_create(actor=request_user(request), partner_id=partner_id, **data.validated_data)
        return Response(VehicleOutput(vehicle).data, status=201)


class VehicleDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="partners_vehicle_get", responses=VehicleOutput)
    def get(self, request: Request, partner_id: UUID, vehicle_id: UUID) -> Response:
        return Response(VehicleOutput(selectors.vehicle_get(request_user(request), partner_id, vehicle_id)).data)

    @extend_schema(
        tags=[TAG], operation_id="partners_vehicle_update", request=VehicleUpdateInput, responses=VehicleOutput
    )
    def patch(self, request: Request, partner_id: UUID, vehicle_id: UUID) -> Response:
        vehicle = selectors.vehicle_get(request_user(request), partner_id, vehicle_id)
        ensure_can_change_partner(request_user(request), vehicle.partner)
        data = VehicleUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        vehicle = services.vehicle_update(
            actor=request_user(request), partner_id=partner_id, vehicle_id=vehicle_id, **data.validated_data
        )
        return Response(VehicleOutput(vehicle).data)


class VehicleDeactivateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="partners_vehicle_deactivate", request=None, responses=VehicleOutput)
    def post(self, request: Request, partner_id: UUID, vehicle_id: UUID) -> Response:
        selectors.vehicle_get(request_user(request), partner_id, vehicle_id)
        vehicle = services.vehicle_deactivate(actor=request_user(request), partner_id=partner_id, vehicle_id=vehicle_id)
        return Response(VehicleOutput(vehicle).data)


V = "partners/<uuid:partner_id>/vehicles"

urlpatterns = [
    path(f"{V}/", VehicleCollectionApi.as_view(), name="partner-vehicles"),
    path(f"{V}/<uuid:vehicle_id>", VehicleDetailApi.as_view(), name="partner-vehicle"),
    path(f"{V}/<uuid:vehicle_id>/deactivate", VehicleDeactivateApi.as_view(), name="partner-vehicle-deactivate"),
]
