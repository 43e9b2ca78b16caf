"""A commodity's commission structures: list, add, read, change."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.requests import request_user
from apps.commodities import selectors
from apps.commodities.api.common import (
    ACTIVE_PARAMETER,
    COMMODITY_PATH,
    TAG,
    UPPER_CODE,
    CommoditiesApi,
    boolean_filter,
    decimal_field,
)
from apps.commodities.api.serializers import (
    CommissionOutput,
    CommissionPageOutput,
)
from apps.commodities.models import (
    CommissionBasis,
    CommissionParty,
)
from apps.commodities.services.commissions import commission_create, commission_update
from apps.core.api.common import PAGE_PARAMETERS, cursor_page


class CommissionListApi(CommoditiesApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CommissionFilter"

        is_active = boolean_filter()
        trade_type = serializers.RegexField(UPPER_CODE, max_length=40, required=False)

    @extend_schema(
        operation_id="commodities_commissions_list",
        tags=[TAG],
        parameters=[*PAGE_PARAMETERS, ACTIVE_PARAMETER, OpenApiParameter("trade_type", str, description="e.g. SPOT.")],
        responses={200: CommissionPageOutput},
        summary="Commission structures of a commodity (newest first)",
    )
    def get(self, request: Request, commodity_id: UUID) -> Response:
        filters = CommissionListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        commissions = selectors.commissions_list(commodity_id=commodity_id, **filters.validated_data)
        return cursor_page(request, commissions, CommissionOutput, view=self)


class CommissionCreateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CommissionCreateInput"

        trade_type = serializers.CharField(max_length=40, help_text="A trade type code: SPOT, FORWARD.")
        name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        basis = serializers.ChoiceField(choices=CommissionBasis.choices)
        rate = decimal_field(min_value=Decimal(0), help_text="Percent (PERCENTAGE) or amount per unit (FIXED).")
        unit = serializers.CharField(max_length=16, required=False, allow_null=True, default=None)
        applies_to = serializers.ChoiceField(choices=CommissionParty.choices)
        is_active = serializers.BooleanField(required=False, default=True)

    @extend_schema(
        operation_id="commodities_commissions_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: CommissionOutput},
        summary="Add a commission structure (needs commodities.add_commissionstructure)",
    )
    def post(self, request: Request, commodity_id: UUID) -> Response:
        data = CommissionCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        commission = commission_create(actor=request_user(request), commodity_id=commodity_id, **data.validated_data)
        fresh = selectors.commission_get(commodity_id=commodity_id, commission_id=commission.id)
        return Response(CommissionOutput(fresh).data, status=201)


class CommissionRetrieveApi(CommoditiesApi):
    @extend_schema(operation_id="commodities_commissions_retrieve", tags=[TAG], responses={200: CommissionOutput})
    def get(self, request: Request, commodity_id: UUID, commission_id: UUID) -> Response:
        commission = selectors.commission_get(commodity_id=commodity_id, commission_id=commission_id)
        return Response(CommissionOutput(commission).data)


class CommissionUpdateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CommissionUpdateInput"

        name = serializers.CharField(max_length=100, required=False, allow_blank=True)
        basis = serializers.ChoiceField(choices=CommissionBasis.choices, required=False)
        rate = decimal_field(min_value=Decimal(0), required=False)
        unit = serializers.CharField(max_length=16, required=False, allow_null=True)
        applies_to = serializers.ChoiceField(choices=CommissionParty.choices, required=False)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(
        operation_id="commodities_commissions_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: CommissionOutput},
        summary="Change or deactivate a commission structure (needs commodities.change_commissionstructure)",
    )
    def patch(self, request: Request, commodity_id: UUID, commission_id: UUID) -> Response:
        data = CommissionUpdateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        commission_update(
            actor=request_user(request), commodity_id=commodity_id, commission_id=commission_id, **data.validated_data
        )
        fresh = selectors.commission_get(commodity_id=commodity_id, commission_id=commission_id)
        return Response(CommissionOutput(fresh).data)


class CommissionCollectionApi(CommissionListApi, CommissionCreateApi):
    pass


class CommissionDetailApi(CommissionRetrieveApi, CommissionUpdateApi):
    pass


urlpatterns: list[URLPattern] = [
    path(f"{COMMODITY_PATH}/commissions/", CommissionCollectionApi.as_view(), name="commodity-commissions"),
    path(
        f"{COMMODITY_PATH}/commissions/<uuid:commission_id>/",
        CommissionDetailApi.as_view(),
        name="commodity-commission",
    ),
]
