"""Availabilities over the API (SPEC section 13): `availabilities/` (list, create),
`availabilities/{id}` (read, change in DRAFT), `availabilities/{id}/submit`, `/approve`,
`/reject` and `/cancel`; and the desk's manual reservations: `availabilities/{id}/reservations`
(Idempotency-Key required) and `reservations/{id}/release`.

Readers: the seller partner's members and its organization's staff with
tradedesk.view_availability (selectors.availabilities_visible_to; outside scope 404). Writers: the
services decide (members with the trade right, desk staff; approving needs
tradedesk.approve_availability). Reservations over the API are the desk's only (staff with
tradedesk.change_availability); negotiations and trades reserve through the services.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.idempotency import RequiresIdempotencyKey
from apps.core.pagination import CappedCursorPagination
from apps.partners.selectors import partner_id_of
from apps.tradedesk import selectors
from apps.tradedesk.errors import AvailabilityInvalid, AvailabilityNotFound
from apps.tradedesk.models import Availability, AvailabilityStatus, ReservationStatus, Visibility
from apps.tradedesk.services import availabilities as services
from apps.tradedesk.services import reservations
from apps.tradedesk.services.availabilities import NOTE_MAX_LENGTH

TAG = "tradedesk"
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The `next` or `previous` cursor of an earlier page."),
    OpenApiParameter("page_size", int, description="Rows per page (default 50, capped at 200)."),
]
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A unique value per reservation (e.g. a UUID), repeated unchanged on every retry.",
)


def _user(request: Request) -> User:
    return cast(User, request.user)


# --- output ---------------------------------------------------------------------------------------


class AvailabilityInvitedIds(serializers.ListField):
    """The ids of the (prefetched) invited partners."""

    def to_representation(self, data: Any) -> list[str]:
        return [str(obj.pk) for obj in data.all()]


def _kg(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=3, **options)


class AvailabilityOutput(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField(help_text="AV/2026-27/000001 once submitted; empty in DRAFT.")
    partner_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=AvailabilityStatus.choices)
    commodity_id = serializers.UUIDField()
    commodity_code = serializers.CharField(source="commodity.code")
    variety_id = serializers.UUIDField(allow_null=True)
    variety_code = serializers.CharField(source="variety.code", allow_null=True, default=None)
    quantity = _kg(help_text="As entered, in quantity_unit.")
    quantity_unit = serializers.CharField(source="quantity_unit.code")
    quantity_unit_factor = serializers.DecimalField(max_digits=20, decimal_places=8, help_text="kg per unit, as used.")
    total_kg = _kg()
    available_kg = _kg()
    reserved_kg = _kg()
    sold_kg = _kg()
    min_order_kg = _kg()
    partial_allowed = serializers.BooleanField()
    price = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Per price_unit, as entered.")
    price_unit = serializers.CharField(source="price_unit.code")
    price_unit_factor = serializers.DecimalField(max_digits=20, decimal_places=8)
    currency = serializers.CharField()
    price_per_kg = serializers.DecimalField(max_digits=14, decimal_places=4)
    quality = serializers.JSONField(help_text="Cleaned values per parameter code (numbers as strings).")
    ship_from_branch_id = serializers.UUIDField(allow_null=True)
    location_id = serializers.UUIDField()
    location_name = serializers.CharField(source="location.name")
    timezone = serializers.CharField(source="location.timezone", help_text="The location's IANA timezone.")
    state_code = serializers.CharField()
    region = serializers.CharField()
    delivery_term_id = serializers.UUIDField(allow_null=True)
    delivery_term_code = serializers.CharField(source="delivery_term.code", allow_null=True, default=None)
    available_from = serializers.DateTimeField()
    available_until = serializers.DateTimeField()
    day_only = serializers.BooleanField()
    expires_at = serializers.DateTimeField()
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    invited_partner_ids = AvailabilityInvitedIds(source="invited_partners", child=serializers.UUIDField())
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_by_id = serializers.UUIDField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    created_by_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AvailabilityPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AvailabilityOutput(many=True)


class ReservationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    availability_id = serializers.UUIDField()
    quantity_kg = _kg()
    status = serializers.ChoiceField(choices=ReservationStatus.choices)
    purpose = serializers.CharField()
    reference = serializers.CharField()
    buyer_id = serializers.UUIDField(allow_null=True)
    created_by_id = serializers.UUIDField(allow_null=True)
    expires_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    availability_status = serializers.ChoiceField(choices=AvailabilityStatus.choices, source="availability.status")
    available_kg = _kg(source="availability.available_kg")
    reserved_kg = _kg(source="availability.reserved_kg")
    sold_kg = _kg(source="availability.sold_kg")


# --- input ----------------------------------------------------------------------------------------
# Types only: the rules (positive quantities and prices, the minimum order, ordered windows,
# quality against the commodity's parameters ...) are the service's, with their stable codes.


def _decimal_strings(value: Any) -> Any:
    """JSON numbers arrive as floats; quality values are decimals (the service refuses floats):
    take a float's shortest repr, which is the number the client wrote."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


class QualityInput(serializers.JSONField):
    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if isinstance(value, dict):
            return {key: _decimal_strings(item) for key, item in value.items()}
        return value


class AvailabilityUpdateInput(serializers.Serializer):
    """Every field optional (PATCH, DRAFT only). Ship-from is a branch of the seller or a
    location: giving one replaces the other."""

    commodity_id = serializers.UUIDField()
    variety_id = serializers.UUIDField(allow_null=True, required=False)
    quantity = serializers.DecimalField(max_digits=16, decimal_places=3, help_text="In quantity_unit; > 0.")
    quantity_unit = serializers.CharField(
        max_length=16, required=False, help_text="A unit code: BALE, KG, QUINTAL, MT, CANDY ... (default: trade unit)."
    )
    min_order = serializers.DecimalField(
        max_digits=16, decimal_places=3, required=False, allow_null=True, help_text="In quantity_unit; <= quantity."
    )
    partial_allowed = serializers.BooleanField(required=False, help_text="False: sold whole only.")
    price = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Per price_unit; > 0.")
    price_unit = serializers.CharField(max_length=16, required=False, help_text="Default: the commodity's rate unit.")
    currency = serializers.CharField(max_length=3, required=False, help_text="Default: the organization's currency.")
    quality = QualityInput(required=False, help_text='Values per parameter code: {"micronaire": "4.2"}.')
    ship_from_branch_id = serializers.UUIDField(allow_null=True, required=False)
    location_id = serializers.UUIDField(allow_null=True, required=False)
    delivery_term_id = serializers.UUIDField(allow_null=True, required=False)
    available_from = serializers.DateTimeField(required=False, help_text="Defaults to now.")
    available_until = serializers.DateTimeField()
    day_only = serializers.BooleanField(required=False, help_text="Expires at the end of the local day.")
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    invited_partner_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, help_text="RESTRICTED only: partners of your organization."
    )


class AvailabilityCreateInput(AvailabilityUpdateInput):
    partner_id = serializers.UUIDField(
        required=False, help_text="The seller. Partner users may leave it out (their own partner); staff give it."
    )


class AvailabilityApproveInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH, default="")


class AvailabilityRejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class AvailabilityCancelInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH, default="")


class AvailabilityFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=AvailabilityStatus.choices, required=False)
    commodity = serializers.UUIDField(required=False, help_text="A commodity id.")
    partner = serializers.UUIDField(required=False, help_text="A seller partner id (staff).")


class ReservationCreateInput(serializers.Serializer):
    quantity_kg = serializers.DecimalField(max_digits=16, decimal_places=3, help_text="> 0.")
    purpose = serializers.CharField(max_length=20, required=False, default="MANUAL")
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    buyer_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    ttl_minutes = serializers.IntegerField(
        min_value=1, max_value=7 * 24 * 60, required=False, help_text="Default TRADEDESK_RESERVATION_TTL_MINUTES."
    )


class ReservationReleaseInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH, default="")


# --- views ----------------------------------------------------------------------------------------


class AvailabilityPage(CappedCursorPagination):
    ordering = ("-created_at", "-id")


def _read(request: Request, availability_id: UUID) -> Response:
    return Response(AvailabilityOutput(selectors.availability_get(_user(request), availability_id)).data)


class AvailabilityCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_availabilities_list",
        parameters=[AvailabilityFilters, *PAGE_PARAMETERS],
        responses=AvailabilityPageOutput,
    )
    def get(self, request: Request) -> Response:
        filters = AvailabilityFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        availabilities = selectors.availabilities_visible_to(
            _user(request),
            status=data.get("status"),
            commodity_id=data.get("commodity"),
            partner_id=data.get("partner"),
        )
        paginator = AvailabilityPage()
        page = paginator.paginate_queryset(selectors.with_availability_details(availabilities), request, view=self)
        return paginator.get_paginated_response(AvailabilityOutput(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_availability_create",
        request=AvailabilityCreateInput,
        responses={201: AvailabilityOutput},
    )
    def post(self, request: Request) -> Response:
        data = AvailabilityCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        partner_id = values.pop("partner_id", None) or partner_id_of(_user(request))
        if partner_id is None:
            raise AvailabilityInvalid("partner_id", "required", "partner_id is required: whose availability is this?")
        availability = services.availability_create(actor=_user(request), partner_id=partner_id, data=values)
        return Response(
            AvailabilityOutput(selectors.availability_get(_user(request), availability.pk)).data, status=201
        )


class AvailabilityDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="tradedesk_availability_get", responses=AvailabilityOutput)
    def get(self, request: Request, availability_id: UUID) -> Response:
        return _read(request, availability_id)

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_availability_update",
        request=AvailabilityUpdateInput,
        responses=AvailabilityOutput,
    )
    def patch(self, request: Request, availability_id: UUID) -> Response:
        selectors.availability_get(_user(request), availability_id)
        data = AvailabilityUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.availability_update(
            actor=_user(request), availability_id=availability_id, changes=dict(data.validated_data)
        )
        return _read(request, availability_id)


class AvailabilitySubmitApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="tradedesk_availability_submit", request=None, responses=AvailabilityOutput)
    def post(self, request: Request, availability_id: UUID) -> Response:
        selectors.availability_get(_user(request), availability_id)
        services.availability_submit(actor=_user(request), availability_id=availability_id)
        return _read(request, availability_id)


class AvailabilityApproveApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_availability_approve",
        request=AvailabilityApproveInput,
        responses=AvailabilityOutput,
    )
    def post(self, request: Request, availability_id: UUID) -> Response:
        selectors.availability_get(_user(request), availability_id)
        data = AvailabilityApproveInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.availability_approve(
            actor=_user(request), availability_id=availability_id, note=data.validated_data["note"]
        )
        return _read(request, availability_id)


class AvailabilityRejectApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_availability_reject",
        request=AvailabilityRejectInput,
        responses=AvailabilityOutput,
    )
    def post(self, request: Request, availability_id: UUID) -> Response:
        selectors.availability_get(_user(request), availability_id)
        data = AvailabilityRejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.availability_reject(
            actor=_user(request), availability_id=availability_id, reason=data.validated_data["reason"]
        )
        return _read(request, availability_id)


class AvailabilityCancelApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_availability_cancel",
        request=AvailabilityCancelInput,
        responses=AvailabilityOutput,
    )
    def post(self, request: Request, availability_id: UUID) -> Response:
        selectors.availability_get(_user(request), availability_id)
        data = AvailabilityCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.availability_cancel(
            actor=_user(request), availability_id=availability_id, reason=data.validated_data["reason"]
        )
        return _read(request, availability_id)


class AvailabilityReservationCreateApi(APIView):
    """The desk holds quantity by hand (and the benchmark measures reservations through here)."""

    permission_classes = [IsAuthenticated, RequiresIdempotencyKey]

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_availability_reservation_create",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ReservationCreateInput,
        responses={201: ReservationOutput},
    )
    def post(self, request: Request, availability_id: UUID) -> Response:
        availability = Availability.objects.filter(pk=availability_id).first()
        if availability is None:
            raise AvailabilityNotFound()
        reservations.ensure_desk_can_manage_reservations(_user(request), availability)
        data = ReservationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ttl = values.get("ttl_minutes")
        reservation = reservations.availability_reserve(
            availability_id=availability_id,
            quantity_kg=values["quantity_kg"],
            purpose=values["purpose"],
            reference=values["reference"],
            buyer_id=values["buyer_id"],
            actor=_user(request),
            ttl=None if ttl is None else timedelta(minutes=ttl),
        )
        return Response(ReservationOutput(reservation).data, status=201)


class ReservationReleaseApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_reservation_release",
        request=ReservationReleaseInput,
        responses=ReservationOutput,
    )
    def post(self, request: Request, reservation_id: UUID) -> Response:
        reservation = selectors.reservation_get_for_desk(_user(request), reservation_id)
        reservations.ensure_desk_can_manage_reservations(_user(request), reservation.availability)
        data = ReservationReleaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        released = reservations.availability_release(
            reservation_id=reservation_id, actor=_user(request), reason=data.validated_data["reason"]
        )
        return Response(ReservationOutput(released).data)


A = "availabilities/<uuid:availability_id>"

urlpatterns = [
    path("availabilities/", AvailabilityCollectionApi.as_view(), name="availabilities"),
    path(A, AvailabilityDetailApi.as_view(), name="availability"),
    path(f"{A}/submit", AvailabilitySubmitApi.as_view(), name="availability-submit"),
    path(f"{A}/approve", AvailabilityApproveApi.as_view(), name="availability-approve"),
    path(f"{A}/reject", AvailabilityRejectApi.as_view(), name="availability-reject"),
    path(f"{A}/cancel", AvailabilityCancelApi.as_view(), name="availability-cancel"),
    path(f"{A}/reservations", AvailabilityReservationCreateApi.as_view(), name="availability-reservations"),
    path("reservations/<uuid:reservation_id>/release", ReservationReleaseApi.as_view(), name="reservation-release"),
]
