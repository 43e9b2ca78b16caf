"""A commodity's quality schedules: list, create a version, read, activate, and the price adjustment of a lot's qualities."""

from __future__ import annotations

from decimal import Decimal
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
    CommoditiesApi,
    NewestVersionFirst,
    active_filter,
    decimal_field,
)
from apps.commodities.api.serializers import (
    PriceAdjustmentOutput,
    QualityScheduleOutput,
    QualitySchedulePageOutput,
    QualityValueField,
)
from apps.commodities.models import (
    AdjustmentKind,
    RuleKind,
)
from apps.commodities.schedules import price_adjustment
from apps.commodities.services.schedules import RuleSpec, schedule_activate, schedule_create
from apps.core.api.common import PAGE_PARAMETERS, cursor_page


class ScheduleRuleInput(serializers.Serializer):
    class Meta:
        ref_name = "ScheduleRuleInput"

    parameter = serializers.CharField(max_length=40, help_text="The parameter's code, e.g. staple_length.")
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    lower = decimal_field(required=False, allow_null=True, default=None)
    upper = decimal_field(required=False, allow_null=True, default=None)
    basis = decimal_field(required=False, allow_null=True, default=None, help_text="RATIO: equals lower or upper.")
    adjustment_kind = serializers.ChoiceField(
        choices=AdjustmentKind.choices, required=False, allow_blank=True, default=""
    )
    value = decimal_field(required=False, allow_null=True, default=None, help_text="Signed: -3 is a discount.")
    step = decimal_field(required=False, allow_null=True, default=None, help_text="RATIO: points per step (1).")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ScheduleListApi(CommoditiesApi):
    @extend_schema(
        operation_id="commodities_schedules_list",
        tags=[TAG],
        parameters=[*PAGE_PARAMETERS, ACTIVE_PARAMETER],
        responses={200: QualitySchedulePageOutput},
        summary="Premium/discount schedule versions of a commodity with their rules (newest first)",
    )
    def get(self, request: Request, commodity_id: UUID) -> Response:
        schedules = selectors.schedules_list(commodity_id=commodity_id, is_active=active_filter(request))
        return cursor_page(request, schedules, QualityScheduleOutput, view=self, pagination=NewestVersionFirst)


class ScheduleCreateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "QualityScheduleCreateInput"

        name = serializers.CharField(max_length=200)
        basis_description = serializers.CharField(required=False, allow_blank=True, default="")
        effective_from = serializers.DateField()
        rules = ScheduleRuleInput(many=True, allow_empty=False)

    @extend_schema(
        operation_id="commodities_schedules_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: QualityScheduleOutput},
        summary="Create the next schedule version, as a draft (needs commodities.add_qualityschedule)",
    )
    def post(self, request: Request, commodity_id: UUID) -> Response:
        data = ScheduleCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        rules = [RuleSpec(**rule) for rule in values.pop("rules")]
        schedule = schedule_create(actor=request_user(request), commodity_id=commodity_id, rules=rules, **values)
        fresh = selectors.schedule_get(commodity_id=commodity_id, schedule_id=schedule.id)
        return Response(QualityScheduleOutput(fresh).data, status=201)


class ScheduleRetrieveApi(CommoditiesApi):
    @extend_schema(
        operation_id="commodities_schedules_retrieve",
        tags=[TAG],
        responses={200: QualityScheduleOutput},
        summary="One schedule version with its rules",
    )
    def get(self, request: Request, commodity_id: UUID, schedule_id: UUID) -> Response:
        schedule = selectors.schedule_get(commodity_id=commodity_id, schedule_id=schedule_id)
        return Response(QualityScheduleOutput(schedule).data)


class ScheduleActivateApi(CommoditiesApi):
    @extend_schema(
        operation_id="commodities_schedules_activate",
        tags=[TAG],
        request=None,
        responses={200: QualityScheduleOutput},
        summary="Make this version the active one and freeze it (needs commodities.change_qualityschedule)",
    )
    def post(self, request: Request, commodity_id: UUID, schedule_id: UUID) -> Response:
        schedule_activate(actor=request_user(request), commodity_id=commodity_id, schedule_id=schedule_id)
        schedule = selectors.schedule_get(commodity_id=commodity_id, schedule_id=schedule_id)
        return Response(QualityScheduleOutput(schedule).data)


class PriceAdjustmentApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PriceAdjustmentInput"

        values = serializers.DictField(
            child=QualityValueField(), help_text="Quality values by parameter code; strings keep decimals exact."
        )
        basis_price = decimal_field(16, 2, min_value=Decimal("0.01"), help_text="Per the commodity's rate unit.")

    @extend_schema(
        operation_id="commodities_schedules_price_adjustment",
        tags=[TAG],
        request=InputSerializer,
        responses={200: PriceAdjustmentOutput},
        summary="Price a lot's quality with this schedule version, line by line",
    )
    def post(self, request: Request, commodity_id: UUID, schedule_id: UUID) -> Response:
        data = PriceAdjustmentApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = selectors.schedule_get(commodity_id=commodity_id, schedule_id=schedule_id)
        result = price_adjustment(schedule, data.validated_data["values"], data.validated_data["basis_price"])
        return Response(PriceAdjustmentOutput(result).data)


class ScheduleCollectionApi(ScheduleListApi, ScheduleCreateApi):
    pass


urlpatterns: list[URLPattern] = [
    path(f"{COMMODITY_PATH}/schedules/", ScheduleCollectionApi.as_view(), name="commodity-schedules"),
    path(f"{COMMODITY_PATH}/schedules/<uuid:schedule_id>/", ScheduleRetrieveApi.as_view(), name="commodity-schedule"),
    path(
        f"{COMMODITY_PATH}/schedules/<uuid:schedule_id>/activate",
        ScheduleActivateApi.as_view(),
        name="commodity-schedule-activate",
    ),
    path(
        f"{COMMODITY_PATH}/schedules/<uuid:schedule_id>/price-adjustment",
        PriceAdjustmentApi.as_view(),
        name="commodity-schedule-price-adjustment",
    ),
]
