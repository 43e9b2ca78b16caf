"""Locations API: one view class per operation (composed per path in the routing classes below).

Reading is open to every signed-in user; writes need `locations.add_location` or
`locations.change_location` (the platform admin role), checked by the services.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.common import PAGE_PARAMETERS
from apps.core.india import STATES_BY_CODE, Region
from apps.core.pagination import CappedCursorPagination
from apps.locations.geocoding import get_geocoder
from apps.locations.models import COORDINATE_PLACES, LocationSource, RegionChoices
from apps.locations.selectors import LocationFilters, location_get, location_ids_by_place_id, locations_active
from apps.locations.services.locations import location_create_from_place, location_deactivate, location_update


class CoordinateField(serializers.DecimalField):
    """Decimal(9, 6) that rounds extra decimal places (GPS and maps give 7-15) instead of refusing them."""

    def __init__(self, *, limit: int, **kwargs: Any) -> None:
        super().__init__(max_digits=9, decimal_places=6, min_value=Decimal(-limit), max_value=Decimal(limit), **kwargs)

    def validate_precision(self, value: Decimal) -> Decimal:
        try:
            rounded = value.quantize(COORDINATE_PLACES, rounding=ROUND_HALF_EVEN)
        except InvalidOperation:  # too many digits to hold 6 places (10**40): no coordinate, not a 500
            self.fail("max_digits", max_digits=self.max_digits)
        return super().validate_precision(rounded)


class LocationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    place_id = serializers.CharField(allow_null=True)
    address = serializers.CharField()
    city = serializers.CharField()
    district = serializers.CharField()
    state = serializers.CharField()
    state_code = serializers.CharField()
    pincode = serializers.CharField()
    country = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    region = serializers.ChoiceField(choices=RegionChoices.choices)
    timezone = serializers.CharField()
    source = serializers.ChoiceField(choices=LocationSource.choices)  # type: ignore[assignment]
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LocationPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = LocationOutput(many=True)


class LocationSuggestionOutput(serializers.Serializer):
    place_id = serializers.CharField(help_text="Send it to POST /api/v1/locations/ to create the location.")
    description = serializers.CharField()
    main_text = serializers.CharField()
    secondary_text = serializers.CharField()
    kind = serializers.ChoiceField(choices=["town", "state", "place"])
    location_id = serializers.UUIDField(
        allow_null=True, help_text="The existing location made from this place, if there is one."
    )


class LocationSuggestionsOutput(serializers.Serializer):
    source = serializers.ChoiceField(choices=LocationSource.choices, help_text="The geocoder that answered.")  # type: ignore[assignment]
    results = LocationSuggestionOutput(many=True)


class StateCodeField(serializers.CharField):
    """A known Indian state or union territory code, any case (`gj` -> `GJ`)."""

    default_error_messages = {"unknown_state": "{value!r} is not an Indian state or union territory code."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=2, max_length=2, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = str(super().to_internal_value(data)).upper()
        if value not in STATES_BY_CODE:
            self.fail("unknown_state", value=value)
        return value


class RegionField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[r.value for r in Region], **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return str(super().to_internal_value(str(data).upper() if isinstance(data, str) else data))


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
        location, created = location_create_from_place(
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
        location = location_update(
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
        location = location_deactivate(location_id=location_id, actor=request.user)  # type: ignore[arg-type]
        return Response(LocationOutput(location).data)


# Routing classes for paths that carry more than one operation.


class LocationCollectionApi(LocationListApi, LocationCreateApi):
    pass  # GET lists, POST creates


class LocationDetailApi(LocationRetrieveApi, LocationUpdateApi):
    pass  # GET reads, PATCH corrects


urlpatterns = [
    path("locations/", LocationCollectionApi.as_view(), name="locations"),
    path("locations/suggest/", LocationSuggestApi.as_view(), name="locations-suggest"),
    path("locations/<uuid:location_id>/", LocationDetailApi.as_view(), name="location"),
    path("locations/<uuid:location_id>/deactivate", LocationDeactivateApi.as_view(), name="location-deactivate"),
]
