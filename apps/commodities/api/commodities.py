"""Commodities: list, add, read, change."""

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
    ByCode,
    CommoditiesApi,
    boolean_filter,
    decimal_field,
)
from apps.commodities.api.serializers import (
    CommodityOutput,
    CommodityPageOutput,
)
from apps.commodities.models import (
    CommodityCategory,
)
from apps.commodities.services.commodities import commodity_create, commodity_update
from apps.core.api.common import PAGE_PARAMETERS, cursor_page


class CommodityListApi(CommoditiesApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CommodityFilter"

        is_active = boolean_filter()
        category = serializers.ChoiceField(choices=CommodityCategory.choices, required=False)
        search = serializers.CharField(required=False, max_length=100)

    @extend_schema(
        operation_id="commodities_list",
        tags=[TAG],
        parameters=[
            *PAGE_PARAMETERS,
            ACTIVE_PARAMETER,
            OpenApiParameter("category", str, enum=CommodityCategory.values),
            OpenApiParameter("search", str, description="Part of the code or name."),
        ],
        responses={200: CommodityPageOutput},
        summary="Commodities with their varieties and quality parameters (by code)",
    )
    def get(self, request: Request) -> Response:
        filters = CommodityListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return cursor_page(
            request, selectors.commodities_list(**filters.validated_data), CommodityOutput, view=self, pagination=ByCode
        )


class CommodityCreateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CommodityCreateInput"

        code = serializers.RegexField(UPPER_CODE, max_length=30, help_text="Upper case: COTTON, KAPAS.")
        name = serializers.CharField(max_length=100)
        category = serializers.ChoiceField(choices=CommodityCategory.choices)
        hsn_code = serializers.RegexField(r"^[0-9]{4}([0-9]{2}){0,2}$", help_text="4, 6 or 8 digits.")
        gst_rate = decimal_field(5, 2, min_value=Decimal(0), max_value=Decimal(100), help_text="Percent.")
        base_unit = serializers.CharField(max_length=16, default="KG")
        trade_unit = serializers.CharField(max_length=16, help_text="A unit code, e.g. BALE.")
        rate_unit = serializers.CharField(max_length=16, help_text="A unit code, e.g. CANDY.")
        description = serializers.CharField(required=False, allow_blank=True, default="")
        is_active = serializers.BooleanField(required=False, default=True)

    @extend_schema(
        operation_id="commodities_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: CommodityOutput},
        summary="Create a commodity (needs commodities.add_commodity)",
    )
    def post(self, request: Request) -> Response:
        data = CommodityCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        commodity = commodity_create(actor=request_user(request), **data.validated_data)
        return Response(CommodityOutput(selectors.commodity_get(commodity.id)).data, status=201)


class CommodityRetrieveApi(CommoditiesApi):
    @extend_schema(
        operation_id="commodities_retrieve",
        tags=[TAG],
        responses={200: CommodityOutput},
        summary="A commodity with its varieties and quality parameters",
    )
    def get(self, request: Request, commodity_id: UUID) -> Response:
        return Response(CommodityOutput(selectors.commodity_get(commodity_id)).data)


class CommodityUpdateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CommodityUpdateInput"

        name = serializers.CharField(max_length=100, required=False)
        category = serializers.ChoiceField(choices=CommodityCategory.choices, required=False)
        hsn_code = serializers.RegexField(r"^[0-9]{4}([0-9]{2}){0,2}$", required=False)
        gst_rate = decimal_field(5, 2, min_value=Decimal(0), max_value=Decimal(100), required=False)
        base_unit = serializers.CharField(max_length=16, required=False)
        trade_unit = serializers.CharField(max_length=16, required=False)
        rate_unit = serializers.CharField(max_length=16, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        is_active = serializers.BooleanField(required=False, help_text="false deactivates the commodity.")

    @extend_schema(
        operation_id="commodities_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: CommodityOutput},
        summary="Change or deactivate a commodity (needs commodities.change_commodity)",
    )
    def patch(self, request: Request, commodity_id: UUID) -> Response:
        data = CommodityUpdateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        commodity_update(actor=request_user(request), commodity_id=commodity_id, **data.validated_data)
        return Response(CommodityOutput(selectors.commodity_get(commodity_id)).data)


class CommodityCollectionApi(CommodityListApi, CommodityCreateApi):
    pass


class CommodityDetailApi(CommodityRetrieveApi, CommodityUpdateApi):
    pass


urlpatterns: list[URLPattern] = [
    path("commodities/", CommodityCollectionApi.as_view(), name="commodities"),
    path(f"{COMMODITY_PATH}/", CommodityDetailApi.as_view(), name="commodity"),
]
