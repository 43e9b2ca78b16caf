"""Locations API: one view class per operation (composed per path in the routing classes below).

Reading is open to every signed-in user; writes need `locations.add_location` or
`locations.change_location` (the platform admin role), checked by the services.
"""

from __future__ import annotations

from dataclasses import asdict
from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.common import PAGE_PARAMETERS
from apps.core.india import Region
from apps.core.pagination import CappedCursorPagination
from apps.locations import services
from apps.locations.api.serializers import (
    CoordinateField,
    LocationOutput,
    LocationPageOutput,
    LocationSuggestionsOutput,
    RegionField,
    StateCodeField,
)
from apps.locations.geocoding import get_geocoder
from apps.locations.selectors import LocationFilters, location_get, location_ids_by_place_id, locations_active

TAG = "locations"
SUGGEST_MAX_LIMIT = 20


class LocationPagination(CappedCursorPagination):
    ordering = ("name", "id")


class LocationApi(APIView):
    permission_classes = [IsAuthenticated]


class LocationListApi(LocationApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LocationFilter"

        search = serializers.CharField(required=False, allow_blank=True, max_length=100)
        state = StateCodeField(required=False)
        region = RegionField(required=False)

    @extend_schema(
        operation_id="locations_list",
        tags=[TAG],
        parameters=[
            OpenApiParameter("search", str, description="Words found in the name, city, district, state or pincode."),
            OpenApiParameter("state", str, description="A two-letter state or union territory code (GJ, MH ...)."),
            OpenApiParameter("region", str, enum=[r.value for r in Region], description="Only this region."),
            *PAGE_PARAMETERS,
        ],
        responses={200: LocationPageOutput},
        summary="Active locations, by name",
    )
    def get(self, request: Request) -> Response:
        filters = LocationListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        queryset = locations_active(
            filters=LocationFilters(
                search=data.get("search", ""), state_code=data.get("state", ""), region=data.get("region", "")
            )
        )
        paginator = LocationPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(LocationOutput(page, many=True).data)


class LocationCreateApi(LocationApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LocationCreateInput"

        place_id = serializers.CharField(
            max_length=300, help_text="A place id from /locations/suggest/: `gaz:rajkot` or a Google place id."
        )

    @extend_schema(
        operation_id="locations_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: LocationOutput, 200: LocationOutput},
        summary="Create a location from a place id (200 with the existing one if it was created before)",
    )
    def post(self, request: Request) -> Response:
        data = LocationCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        location, created = services.location_create_from_place(
            place_id=data.validated_data["place_id"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(LocationOutput(location).data, status=201 if created else 200)


class LocationSuggestApi(LocationApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LocationSuggestFilter"

        q = serializers.CharField(min_length=2, max_length=100)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=SUGGEST_MAX_LIMIT, default=10)

    @extend_schema(
        operation_id="locations_suggest",
        tags=[TAG],
        parameters=[
            OpenApiParameter("q", str, required=True, description="What the user typed (at least 2 characters)."),
            OpenApiParameter(
                "limit", int, description=f"At most this many suggestions (1-{SUGGEST_MAX_LIMIT}, default 10)."
            ),
        ],
        responses={200: LocationSuggestionsOutput},
        summary="Places matching a partial name, from the configured geocoder",
    )
    def get(self, request: Request) -> Response:
        filters = LocationSuggestApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        geocoder = get_geocoder()
        suggestions = geocoder.autocomplete(filters.validated_data["q"], limit=filters.validated_data["limit"])
        existing = location_ids_by_place_id([s.place_id for s in suggestions])
        results = [{**asdict(s), "location_id": existing.get(s.place_id)} for s in suggestions]
        return Response(LocationSuggestionsOutput({"source": geocoder.source, "results": results}).data)


class LocationRetrieveApi(LocationApi):
    @extend_schema(
        operation_id="locations_retrieve",
        tags=[TAG],
        responses={200: LocationOutput},
        summary="Read a location (deactivated ones too)",
    )
    def get(self, request: Request, location_id: UUID) -> Response:
        return Response(LocationOutput(location_get(location_id=location_id)).data)


class LocationUpdateApi(LocationApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LocationUpdateInput"

        name = serializers.CharField(max_length=200, required=False)
        address = serializers.CharField(max_length=500, required=False, allow_blank=True)
        city = serializers.CharField(max_length=100, required=False, allow_blank=True)
        district = serializers.CharField(max_length=100, required=False, allow_blank=True)
        state_code = serializers.CharField(max_length=2, required=False, help_text="GJ, MH ... for India.")
        pincode = serializers.CharField(max_length=10, required=False, allow_blank=True)
        latitude = CoordinateField(limit=90, required=False)
        longitude = CoordinateField(limit=180, required=False)
        timezone = serializers.CharField(max_length=64, required=False, help_text="IANA name; India is Asia/Kolkata.")
        is_active = serializers.BooleanField(
            required=False, help_text="Only true (reactivate); deactivate with POST .../deactivate."
        )

    @extend_schema(
        operation_id="locations_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: LocationOutput},
        summary="Correct a location's fields, or reactivate it",
    )
    def patch(self, request: Request, location_id: UUID) -> Response:
        data = LocationUpdateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        location = services.location_update(
            location_id=location_id,
            actor=request.user,  # type: ignore[arg-type]
            **data.validated_data,
        )
        return Response(LocationOutput(location).data)


class LocationDeactivateApi(LocationApi):
    @extend_schema(
        operation_id="locations_deactivate",
        tags=[TAG],
        request=None,
        responses={200: LocationOutput},
        summary="Deactivate a location (409 location_in_use while anything active refers to it)",
    )
    def post(self, request: Request, location_id: UUID) -> Response:
        location = services.location_deactivate(location_id=location_id, actor=request.user)  # type: ignore[arg-type]
        return Response(LocationOutput(location).data)


# Routing classes for paths that carry more than one operation.


class LocationCollectionApi(LocationListApi, LocationCreateApi):
    pass  # GET lists, POST creates


class LocationDetailApi(LocationRetrieveApi, LocationUpdateApi):
    pass  # GET reads, PATCH corrects
