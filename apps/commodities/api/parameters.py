"""A commodity's quality parameters: list, add, read, change."""

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
    SNAKE_CODE,
    TAG,
    ByDisplayOrder,
    CommoditiesApi,
    active_filter,
    decimal_field,
)
from apps.commodities.api.serializers import (
    QualityParameterOutput,
    QualityParameterPageOutput,
)
from apps.commodities.models import (
    ParameterKind,
)
from apps.commodities.services.parameters import parameter_create, parameter_update
from apps.core.api.common import PAGE_PARAMETERS, cursor_page


class ParameterListApi(CommoditiesApi):
    @extend_schema(
        operation_id="commodities_parameters_list",
        tags=[TAG],
        parameters=[*PAGE_PARAMETERS, ACTIVE_PARAMETER],
        responses={200: QualityParameterPageOutput},
        summary="Quality parameters of a commodity (display order)",
    )
    def get(self, request: Request, commodity_id: UUID) -> Response:
        parameters = selectors.parameters_list(commodity_id=commodity_id, is_active=active_filter(request))
        return cursor_page(request, parameters, QualityParameterOutput, view=self, pagination=ByDisplayOrder)


class ParameterCreateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "QualityParameterCreateInput"

        code = serializers.RegexField(SNAKE_CODE, max_length=40, help_text="snake_case, stable.")
        name = serializers.CharField(max_length=100)
        kind = serializers.ChoiceField(choices=ParameterKind.choices)
        unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
        min_value = decimal_field(required=False, allow_null=True, default=None)
        max_value = decimal_field(required=False, allow_null=True, default=None)
        allowed_values = serializers.ListField(
            child=serializers.CharField(max_length=40), required=False, default=list, help_text="GRADE only."
        )
        decimals = serializers.IntegerField(min_value=0, max_value=4, required=False, default=2)
        is_mandatory = serializers.BooleanField(required=False, default=False)
        order = serializers.IntegerField(min_value=0, max_value=32767, required=False, default=0)
        description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
        is_active = serializers.BooleanField(required=False, default=True)

    @extend_schema(
        operation_id="commodities_parameters_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: QualityParameterOutput},
        summary="Add a quality parameter (needs commodities.add_qualityparameter)",
    )
    def post(self, request: Request, commodity_id: UUID) -> Response:
        data = ParameterCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parameter = parameter_create(actor=request_user(request), commodity_id=commodity_id, **data.validated_data)
        return Response(QualityParameterOutput(parameter).data, status=201)


class ParameterRetrieveApi(CommoditiesApi):
    @extend_schema(operation_id="commodities_parameters_retrieve", tags=[TAG], responses={200: QualityParameterOutput})
    def get(self, request: Request, commodity_id: UUID, parameter_id: UUID) -> Response:
        parameter = selectors.parameter_get(commodity_id=commodity_id, parameter_id=parameter_id)
        return Response(QualityParameterOutput(parameter).data)


class ParameterUpdateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "QualityParameterUpdateInput"

        name = serializers.CharField(max_length=100, required=False)
        unit = serializers.CharField(max_length=20, required=False, allow_blank=True)
        min_value = decimal_field(required=False, allow_null=True)
        max_value = decimal_field(required=False, allow_null=True)
        allowed_values = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
        decimals = serializers.IntegerField(min_value=0, max_value=4, required=False)
        is_mandatory = serializers.BooleanField(required=False)
        order = serializers.IntegerField(min_value=0, max_value=32767, required=False)
        description = serializers.CharField(max_length=300, required=False, allow_blank=True)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(
        operation_id="commodities_parameters_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: QualityParameterOutput},
        summary="Change a quality parameter; its code and kind never change (commodities.change_qualityparameter)",
    )
    def patch(self, request: Request, commodity_id: UUID, parameter_id: UUID) -> Response:
        data = ParameterUpdateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parameter = parameter_update(
            actor=request_user(request), commodity_id=commodity_id, parameter_id=parameter_id, **data.validated_data
        )
        return Response(QualityParameterOutput(parameter).data)


class ParameterCollectionApi(ParameterListApi, ParameterCreateApi):
    pass


class ParameterDetailApi(ParameterRetrieveApi, ParameterUpdateApi):
    pass


urlpatterns: list[URLPattern] = [
    path(f"{COMMODITY_PATH}/parameters/", ParameterCollectionApi.as_view(), name="commodity-parameters"),
    path(f"{COMMODITY_PATH}/parameters/<uuid:parameter_id>/", ParameterDetailApi.as_view(), name="commodity-parameter"),
]
