"""Requirements over the API (SPEC section 13): `requirements/` (list, create),
`requirements/{id}` (read, change), `requirements/{id}/publish` and `/cancel`.

Readers: the buyer partner's members and its organization's staff with
tradedesk.view_requirement (selectors.requirements_visible_to; outside scope 404). Writers: the
services decide (members with the trade right, desk staff). Fulfilment has no endpoint: only
trade-desk services record it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

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
from apps.tradedesk.errors import RequirementInvalid
from apps.tradedesk.models import RequirementStatus, Urgency, Visibility
from apps.tradedesk.services import requirements as services
from apps.tradedesk.services.requirements import REASON_MAX_LENGTH

# --- output ---------------------------------------------------------------------------------------


class RequirementDeliveryLocationOutput(serializers.Serializer):
    location_id = serializers.UUIDField()
    name = serializers.CharField(source="location.name")
    state_code = serializers.CharField(source="location.state_code")
    region = serializers.CharField(source="location.region")
    radius_km = serializers.DecimalField(max_digits=7, decimal_places=2)


class RequirementOutput(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField(help_text="RQ/2026-27/000001 once published; empty in DRAFT.")
    partner_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=RequirementStatus.choices)
    commodity_id = serializers.UUIDField()
    commodity_code = serializers.CharField(source="commodity.code")
    variety_id = serializers.UUIDField(allow_null=True)
    variety_code = serializers.CharField(source="variety.code", allow_null=True, default=None)
    quantity_unit = serializers.CharField(source="quantity_unit.code")
    quantity_unit_factor = factor_field()
    min_quantity = kg_field()
    max_quantity = kg_field()
    preferred_quantity = kg_field(allow_null=True)
    min_kg = kg_field()
    max_kg = kg_field()
    preferred_kg = kg_field(allow_null=True)
    fulfilled_kg = kg_field()
    spec = serializers.JSONField(help_text="Per parameter code: min, max, preferred, exact, accepted.")
    price_unit = serializers.CharField(source="price_unit.code")
    price_unit_factor = factor_field()
    currency = serializers.CharField()
    max_price = price_field()
    preferred_price = price_field(allow_null=True)
    max_price_per_kg = per_kg_field()
    preferred_price_per_kg = per_kg_field(allow_null=True)
    delivery_from = serializers.DateField()
    delivery_until = serializers.DateField()
    delivery_locations = RequirementDeliveryLocationOutput(many=True)
    payment_term_id = serializers.UUIDField(allow_null=True)
    delivery_term_id = serializers.UUIDField(allow_null=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    invited_partner_ids = PrimaryKeys(source="invited_partners", child=serializers.UUIDField())
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
    state_code = serializers.CharField(help_text="Of the first delivery location.")
    region = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    created_by_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RequirementPageOutput(PageOutput):
    results = RequirementOutput(many=True)


# --- input ----------------------------------------------------------------------------------------
# Types only: the rules (positive quantities and prices, ordered windows, the spec against the
# commodity's parameters ...) are the service's, with their stable codes.


class RequirementDeliveryLocationInput(serializers.Serializer):
    location_id = serializers.UUIDField()
    radius_km = serializers.DecimalField(max_digits=7, decimal_places=2, help_text="0 for the place itself.")


class RequirementUpdateInput(serializers.Serializer):
    """Every field optional (PATCH). Once published only quantities, spec, prices, the delivery
    window and locations change."""

    commodity_id = serializers.UUIDField()
    variety_id = serializers.UUIDField(allow_null=True, required=False)
    quantity_unit = serializers.CharField(max_length=16, help_text="A unit code: BALE, KG, QUINTAL, MT, CANDY ...")
    min_quantity = kg_field()
    max_quantity = kg_field()
    preferred_quantity = kg_field(allow_null=True, required=False)
    spec = DecimalJSONField(
        required=False,
        help_text='Per parameter code any of min, max, preferred, exact, accepted: {"micronaire": {"min": "3.8"}}.',
    )
    price_unit = serializers.CharField(max_length=16, help_text="Prices are per this unit (CANDY for cotton).")
    max_price = price_field()
    preferred_price = price_field(allow_null=True, required=False)
    delivery_locations = RequirementDeliveryLocationInput(many=True)
    delivery_from = serializers.DateField()
    delivery_until = serializers.DateField()
    payment_term_id = serializers.UUIDField(allow_null=True, required=False)
    delivery_term_id = serializers.UUIDField(allow_null=True, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    invited_partner_ids = invited_partner_ids_input()
    valid_from = serializers.DateTimeField(required=False, help_text="Defaults to now.")
    valid_until = serializers.DateTimeField()


class RequirementCreateInput(RequirementUpdateInput):
    partner_id = serializers.UUIDField(
        required=False, help_text="The buyer. Partner users may leave it out (their own partner); staff give it."
    )


class RequirementCancelInput(serializers.Serializer):
    reason = optional_text(REASON_MAX_LENGTH)


class RequirementFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=RequirementStatus.choices, required=False)
    commodity = serializers.UUIDField(required=False, help_text="A commodity id.")
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    partner = serializers.UUIDField(required=False, help_text="A buyer partner id (staff).")


def _input(data: dict[str, Any]) -> services.RequirementFields:
    """The fields that passed the serializer's type checks, as the service's input."""
    if "delivery_locations" in data:
        data["delivery_locations"] = [services.DeliveryLocationInput(**row) for row in data["delivery_locations"]]
    return services.RequirementFields(**data)


# --- views ----------------------------------------------------------------------------------------


def _read(request: Request, requirement_id: UUID, *, status: int = 200) -> Response:
    return Response(RequirementOutput(selectors.requirement_get(user(request), requirement_id)).data, status=status)


class RequirementCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_requirements_list",
        parameters=[RequirementFilters, *PAGE_PARAMETERS],
        responses=RequirementPageOutput,
    )
    def get(self, request: Request) -> Response:
        filters = RequirementFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        requirements = selectors.requirements_visible_to(user(request))
        data = filters.validated_data
        if "status" in data:
            requirements = requirements.filter(status=data["status"])
        if "commodity" in data:
            requirements = requirements.filter(commodity_id=data["commodity"])
        if "urgency" in data:
            requirements = requirements.filter(urgency=data["urgency"])
        if "partner" in data:
            requirements = requirements.filter(partner_id=data["partner"])
        paginator = CappedCursorPagination()
        page = paginator.paginate_queryset(selectors.with_requirement_details(requirements), request, view=self)
        return paginator.get_paginated_response(RequirementOutput(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_requirement_create",
        request=RequirementCreateInput,
        responses={201: RequirementOutput},
    )
    def post(self, request: Request) -> Response:
        # Type errors go to the service with the rest: the answer lists every field at once.
        values, type_errors = checked(RequirementCreateInput, request)
        partner_id = posting_partner_id(
            request, values, error=RequirementInvalid, noun="requirement", prior_errors=type_errors
        )
        requirement = services.requirement_create(
            actor=user(request), partner_id=partner_id, fields=_input(values), prior_errors=type_errors
        )
        return _read(request, requirement.pk, status=201)


class RequirementDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="tradedesk_requirement_get", responses=RequirementOutput)
    def get(self, request: Request, requirement_id: UUID) -> Response:
        return _read(request, requirement_id)

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_requirement_update",
        request=RequirementUpdateInput,
        responses=RequirementOutput,
    )
    def patch(self, request: Request, requirement_id: UUID) -> Response:
        selectors.requirement_get(user(request), requirement_id)
        changes, type_errors = checked(RequirementUpdateInput, request, partial=True)
        services.requirement_update(
            actor=user(request), requirement_id=requirement_id, changes=_input(changes), prior_errors=type_errors
        )
        return _read(request, requirement_id)


class RequirementPublishApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="tradedesk_requirement_publish", request=None, responses=RequirementOutput)
    def post(self, request: Request, requirement_id: UUID) -> Response:
        selectors.requirement_get(user(request), requirement_id)
        services.requirement_publish(actor=user(request), requirement_id=requirement_id)
        return _read(request, requirement_id)


class RequirementCancelApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_requirement_cancel",
        request=RequirementCancelInput,
        responses=RequirementOutput,
    )
    def post(self, request: Request, requirement_id: UUID) -> Response:
        selectors.requirement_get(user(request), requirement_id)
        reason = validated(RequirementCancelInput, request)["reason"]
        services.requirement_cancel(actor=user(request), requirement_id=requirement_id, reason=reason)
        return _read(request, requirement_id)


R = "requirements/<uuid:requirement_id>"

urlpatterns = [
    path("requirements/", RequirementCollectionApi.as_view(), name="requirements"),
    path(R, RequirementDetailApi.as_view(), name="requirement"),
    path(f"{R}/publish", RequirementPublishApi.as_view(), name="requirement-publish"),
    path(f"{R}/cancel", RequirementCancelApi.as_view(), name="requirement-cancel"),
]
