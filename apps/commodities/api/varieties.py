"""A commodity's varieties: list, add, read, change."""

from __future__ import annotations

from uuid import UUID

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.requests import request_user
from apps.commodities import selectors
from apps.commodities.api.common import (
    ACTIVE_PARAMETER,
    COMMODITY_PATH,
    TAG,
    VARIETY_CODE,
    ByCode,
    CommoditiesApi,
    active_filter,
)
from apps.commodities.api.serializers import (
    VarietyOutput,
    VarietyPageOutput,
)
from apps.commodities.services.varieties import variety_create, variety_update
from apps.core.api.common import PAGE_PARAMETERS, cursor_page


class VarietyListApi(CommoditiesApi):
    @extend_schema(
        operation_id="commodities_varieties_list",
        tags=[TAG],
        parameters=[*PAGE_PARAMETERS, ACTIVE_PARAMETER],
        responses={200: VarietyPageOutput},
        summary="Varieties of a commodity (by code)",
    )
    def get(self, request: Request, commodity_id: UUID) -> Response:
        varieties = selectors.varieties_list(commodity_id=commodity_id, is_active=active_filter(request))
        return cursor_page(request, varieties, VarietyOutput, view=self, pagination=ByCode)


class VarietyCreateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "VarietyCreateInput"

        code = serializers.RegexField(VARIETY_CODE, max_length=40, help_text="Upper case: SHANKAR-6.")
        name = serializers.CharField(max_length=100)
        description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
        is_active = serializers.BooleanField(required=False, default=True)

    @extend_schema(
        operation_id="commodities_varieties_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: VarietyOutput},
        summary="Add a variety (needs commodities.add_variety)",
    )
    def post(self, request: Request, commodity_id: UUID) -> Response:
        data = VarietyCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variety = variety_create(actor=request_user(request), commodity_id=commodity_id, **data.validated_data)
        return Response(VarietyOutput(variety).data, status=201)


class VarietyRetrieveApi(CommoditiesApi):
    @extend_schema(operation_id="commodities_varieties_retrieve", tags=[TAG], responses={200: VarietyOutput})
    def get(self, request: Request, commodity_id: UUID, variety_id: UUID) -> Response:
        return Response(VarietyOutput(selectors.variety_get(commodity_id=commodity_id, variety_id=variety_id)).data)


class VarietyUpdateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "VarietyUpdateInput"

        name = serializers.CharField(max_length=100, required=False)
        description = serializers.CharField(max_length=300, required=False, allow_blank=True)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(
        operation_id="commodities_varieties_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: VarietyOutput},
        summary="Change or deactivate a variety (needs commodities.change_variety)",
    )
    def patch(self, request: Request, commodity_id: UUID, variety_id: UUID) -> Response:
        data = VarietyUpdateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variety = variety_update(
            actor=request_user(request), commodity_id=commodity_id, variety_id=variety_id, **data.validated_data
        )
        return Response(VarietyOutput(variety).data)


class VarietyCollectionApi(VarietyListApi, VarietyCreateApi):
    pass


class VarietyDetailApi(VarietyRetrieveApi, VarietyUpdateApi):
    pass


urlpatterns: list[URLPattern] = [
    path(f"{COMMODITY_PATH}/varieties/", VarietyCollectionApi.as_view(), name="commodity-varieties"),
    path(f"{COMMODITY_PATH}/varieties/<uuid:variety_id>/", VarietyDetailApi.as_view(), name="commodity-variety"),
]
