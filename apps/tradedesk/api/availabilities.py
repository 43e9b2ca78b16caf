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
from uuid import UUID

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.idempotency import RequiresIdempotencyKey
from apps.core.pagination import CappedCursorPagination
from apps.tradedesk import selectors
from apps.tradedesk.api.common import (
    PAGE_PARAMETERS,
    TAG,
    DecimalJSONField,
    PageOutput,
    PrimaryKeys,
    checked,
    factor_field,
    invited_partner_ids_input,
    kg_field,
    optional_text,
    per_kg_field,
    posting_partner_id,
    price_field,
    user,
    validated,
)
from apps.tradedesk.errors import AvailabilityInvalid, AvailabilityNotFound
from apps.tradedesk.models import AvailabilityStatus, ReservationStatus, Visibility
from apps.tradedesk.services import availabilities as services
from apps.tradedesk.services import reservations
from apps.tradedesk.services.availabilities import NOTE_MAX_LENGTH

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A unique value per reservation (e.g. a UUID), repeated unchanged on every retry.",
)


# --- output ---------------------------------------------------------------------------------------


class AvailabilityOutput(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField(help_text="AV/2026-27/000001 once submitted; empty in DRAFT.")
    partner_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=AvailabilityStatus.choices)
    commodity_id = serializers.UUIDField()
    commodity_code = serializers.CharField(source="commodity.code")
    variety_id = serializers.UUIDField(allow_null=True)
    variety_code = serializers.CharField(source="variety.code", allow_null=True, default=None)
    quantity = kg_field(help_text="As entered, in quantity_unit.")
    quantity_unit = serializers.CharField(source="quantity_unit.code")
    quantity_unit_factor = factor_field(help_text="kg per unit, as used.")
    total_kg = kg_field()
    available_kg = kg_field()
    reserved_kg = kg_field()
    sold_kg = kg_field()
    min_order_kg = kg_field()
    partial_allowed = serializers.BooleanField()
    price = price_field(help_text="Per price_unit, as entered.")
    price_unit = serializers.CharField(source="price_unit.code")
    price_unit_factor = factor_field()
    currency = serializers.CharField()
    price_per_kg = per_kg_field()
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
    invited_partner_ids = PrimaryKeys(source="invited_partners", child=serializers.UUIDField())
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_by_id = serializers.UUIDField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    created_by_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AvailabilityPageOutput(PageOutput):
    results = AvailabilityOutput(many=True)


class ReservationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    availability_id = serializers.UUIDField()
    quantity_kg = kg_field()
    status = serializers.ChoiceField(choices=ReservationStatus.choices)
    purpose = serializers.CharField()
    reference = serializers.CharField()
    buyer_id = serializers.UUIDField(allow_null=True)
    created_by_id = serializers.UUIDField(allow_null=True)
    expires_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    availability_status = serializers.ChoiceField(choices=AvailabilityStatus.choices, source="availability.status")
    available_kg = kg_field(source="availability.available_kg")
    reserved_kg = kg_field(source="availability.reserved_kg")
    sold_kg = kg_field(source="availability.sold_kg")


# --- input ----------------------------------------------------------------------------------------
# Types only: the rules (positive quantities and prices, the minimum order, ordered windows,
# quality against the commodity's parameters ...) are the service's, with their stable codes.


class AvailabilityUpdateInput(serializers.Serializer):
    """Every field optional (PATCH, DRAFT only). Ship-from is a branch of the seller or a
    location: giving one replaces the other."""

    commodity_id = serializers.UUIDField()
    variety_id = serializers.UUIDField(allow_null=True, required=False)
    quantity = kg_field(help_text="In quantity_unit; > 0.")
    quantity_unit = serializers.CharField(
        max_length=16, required=False, help_text="A unit code: BALE, KG, QUINTAL, MT, CANDY ... (default: trade unit)."
    )
    min_order = kg_field(required=False, allow_null=True, help_text="In quantity_unit; <= quantity.")
    partial_allowed = serializers.BooleanField(required=False, help_text="False: sold whole only.")
    price = price_field(help_text="Per price_unit; > 0.")
    price_unit = serializers.CharField(max_length=16, required=False, help_text="Default: the commodity's rate unit.")
    currency = serializers.CharField(max_length=3, required=False, help_text="Default: the organization's currency.")
    quality = DecimalJSONField(required=False, help_text='Values per parameter code: {"micronaire": "4.2"}.')
    ship_from_branch_id = serializers.UUIDField(allow_null=True, required=False)
    location_id = serializers.UUIDField(allow_null=True, required=False)
    delivery_term_id = serializers.UUIDField(allow_null=True, required=False)
    available_from = serializers.DateTimeField(required=False, help_text="Defaults to now.")
    available_until = serializers.DateTimeField()
    day_only = serializers.BooleanField(required=False, help_text="Expires at the end of the local day.")
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    invited_partner_ids = invited_partner_ids_input()


class AvailabilityCreateInput(AvailabilityUpdateInput):
    partner_id = serializers.UUIDField(
        required=False, help_text="The seller. Partner users may leave it out (their own partner); staff give it."
    )


class AvailabilityApproveInput(serializers.Serializer):
    note = optional_text(NOTE_MAX_LENGTH)


class AvailabilityRejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class AvailabilityCancelInput(serializers.Serializer):
    reason = optional_text(NOTE_MAX_LENGTH)


class AvailabilityFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=AvailabilityStatus.choices, required=False)
    commodity = serializers.UUIDField(required=False, help_text="A commodity id.")
    partner = serializers.UUIDField(required=False, help_text="A seller partner id (staff).")


class ReservationCreateInput(serializers.Serializer):
    quantity_kg = kg_field(help_text="> 0.")
    purpose = serializers.CharField(max_length=20, required=False, default="MANUAL")
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    buyer_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    ttl_minutes = serializers.IntegerField(
        min_value=1, max_value=7 * 24 * 60, required=False, help_text="Default TRADEDESK_RESERVATION_TTL_MINUTES."
    )


class ReservationReleaseInput(serializers.Serializer):
    reason = optional_text(NOTE_MAX_LENGTH)


# --- views ----------------------------------------------------------------------------------------


def _read(request: Request, availability_id: UUID, *, status: int = 200) -> Response:
    return Response(AvailabilityOutput(selectors.availability_get(user(request), availability_id)).data, status=status)


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
            user(request),
            status=data.get("status"),
            commodity_id=data.get("commodity"),
            partner_id=data.get("partner"),
        )
        paginator = CappedCursorPagination()
        page = paginator.paginate_queryset(selectors.with_availability_details(availabilities), request, view=self)
        return paginator.get_paginated_response(AvailabilityOutput(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_availability_create",
        request=AvailabilityCreateInput,
        responses={201: AvailabilityOutput},
    )
    def post(self, request: Request) -> Response:
        # Type errors go to the service with the rest: the answer lists every field at once.
        values, type_errors = checked(AvailabilityCreateInput, request)
        partner_id = posting_partner_id(
            request, values, error=AvailabilityInvalid, noun="availability", prior_errors=type_errors
        )
        availability = services.availability_create(
            actor=user(request),
            partner_id=partner_id,
            fields=services.AvailabilityFields(**values),
            prior_errors=type_errors,
        )
        return _read(request, availability.pk, status=201)


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
        selectors.availability_get(user(request), availability_id)
        changes, type_errors = checked(AvailabilityUpdateInput, request, partial=True)
        services.availability_update(
            actor=user(request),
            availability_id=availability_id,
            changes=services.AvailabilityFields(**changes),
            prior_errors=type_errors,
        )
        return _read(request, availability_id)


class AvailabilitySubmitApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="tradedesk_availability_submit", request=None, responses=AvailabilityOutput)
    def post(self, request: Request, availability_id: UUID) -> Response:
        selectors.availability_get(user(request), availability_id)
        services.availability_submit(actor=user(request), availability_id=availability_id)
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
        selectors.availability_get(user(request), availability_id)
        values = validated(AvailabilityApproveInput, request)
        services.availability_approve(actor=user(request), availability_id=availability_id, note=values["note"])
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
        selectors.availability_get(user(request), availability_id)
        values = validated(AvailabilityRejectInput, request)
        services.availability_reject(actor=user(request), availability_id=availability_id, reason=values["reason"])
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
        selectors.availability_get(user(request), availability_id)
        values = validated(AvailabilityCancelInput, request)
        services.availability_cancel(actor=user(request), availability_id=availability_id, reason=values["reason"])
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
        availability = selectors.availabilities_visible_to_staff(user(request)).filter(pk=availability_id).first()
        if availability is None:
            raise AvailabilityNotFound()
        reservations.ensure_desk_can_manage_reservations(user(request), availability)
        values = validated(ReservationCreateInput, request)
        ttl = values.get("ttl_minutes")
        reservation = reservations.availability_reserve(
            availability_id=availability_id,
            quantity_kg=values["quantity_kg"],
            purpose=values["purpose"],
            reference=values["reference"],
            buyer_id=values["buyer_id"],
            actor=user(request),
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
        reservation = selectors.reservation_get_for_desk(user(request), reservation_id)
        reservations.ensure_desk_can_manage_reservations(user(request), reservation.availability)
        reason = validated(ReservationReleaseInput, request)["reason"]
        released = reservations.availability_release(reservation_id=reservation_id, actor=user(request), reason=reason)
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
