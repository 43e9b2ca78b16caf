"""Commodities, units, parameters, schedules, conversions, terms and commissions: one view class
per operation. Operations sharing a path are composed into one routing class at the end.

Reads are open to every signed-in user (global masters); writes need the model permission,
checked by the services (403 `permission_denied`, nothing written).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.commodities import selectors, services
from apps.commodities.api.serializers import (
    CommissionOutput,
    CommissionPageOutput,
    CommodityOutput,
    CommodityPageOutput,
    ConversionOutput,
    PriceAdjustmentOutput,
    QualityParameterOutput,
    QualityParameterPageOutput,
    QualityScheduleOutput,
    QualitySchedulePageOutput,
    QualityValueField,
    TradeTermOutput,
    TradeTermPageOutput,
    UnitOutput,
    UnitPageOutput,
    VarietyOutput,
    VarietyPageOutput,
)
from apps.commodities.conversions import conversion_quote
from apps.commodities.models import (
    AdjustmentKind,
    CommissionBasis,
    CommissionParty,
    CommodityCategory,
    ParameterKind,
    RuleKind,
    TermKind,
)
from apps.commodities.schedules import price_adjustment
from apps.core.pagination import CappedCursorPagination

TAG = "commodities"
TERMS_TAG = "terms"

UPPER_CODE = r"^[A-Z][A-Z0-9_]*$"
VARIETY_CODE = r"^[A-Z0-9][A-Z0-9_-]*$"
SNAKE_CODE = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The `next` or `previous` cursor of an earlier page."),
    OpenApiParameter("page_size", int, description="Rows per page (default 50, capped at 200)."),
]
ACTIVE_PARAMETER = OpenApiParameter("is_active", bool, description="Only active (true) or inactive (false) rows.")
TERM_KIND_SLUGS = {kind: kind.lower().replace("_", "-") for kind in TermKind.values}
KIND_PARAMETER = OpenApiParameter(
    "kind",
    str,
    OpenApiParameter.PATH,
    enum=sorted(TERM_KIND_SLUGS.values()),
    description="The kind of trade terms.",
)


class ByCode(CappedCursorPagination):
    ordering = ("code", "id")


class ByDisplayOrder(CappedCursorPagination):
    ordering = ("order", "code")


class NewestVersionFirst(CappedCursorPagination):
    ordering = ("-version", "id")


def _boolean_filter() -> serializers.BooleanField:
    # default=None: an absent query parameter means "any", not False.
    return serializers.BooleanField(required=False, allow_null=True, default=None)


def _page(
    view: APIView,
    request: Request,
    queryset: Any,
    output: type[serializers.Serializer],
    pagination: type[CappedCursorPagination] = CappedCursorPagination,
) -> Response:
    paginator = pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(output(page, many=True).data)


def _decimal(max_digits: int = 12, decimal_places: int = 4, **kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=max_digits, decimal_places=decimal_places, **kwargs)


class CommoditiesApi(APIView):
    permission_classes = [IsAuthenticated]


class ActiveFilter(serializers.Serializer):
    class Meta:
        ref_name = "CommoditiesActiveFilter"

    is_active = _boolean_filter()


def _active(request: Request) -> bool | None:
    filters = ActiveFilter(data=request.query_params)
    filters.is_valid(raise_exception=True)
    value: bool | None = filters.validated_data["is_active"]
    return value


# --- units ------------------------------------------------------------------------------------


class UnitListApi(CommoditiesApi):
    @extend_schema(
        operation_id="units_list",
        tags=[TAG],
        parameters=[*PAGE_PARAMETERS, ACTIVE_PARAMETER],
        responses={200: UnitPageOutput},
        summary="Units of mass with their exact factor to kg",
    )
    def get(self, request: Request) -> Response:
        return _page(self, request, selectors.units_list(is_active=_active(request)), UnitOutput, ByCode)


# --- commodities ------------------------------------------------------------------------------


class CommodityListApi(CommoditiesApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CommodityFilter"

        is_active = _boolean_filter()
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
        return _page(self, request, selectors.commodities_list(**filters.validated_data), CommodityOutput, ByCode)


class CommodityCreateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CommodityCreateInput"

        code = serializers.RegexField(UPPER_CODE, max_length=30, help_text="Upper case: COTTON, KAPAS.")
        name = serializers.CharField(max_length=100)
        category = serializers.ChoiceField(choices=CommodityCategory.choices)
        hsn_code = serializers.RegexField(r"^[0-9]{4}([0-9]{2}){0,2}$", help_text="4, 6 or 8 digits.")
        gst_rate = _decimal(5, 2, min_value=Decimal(0), max_value=Decimal(100), help_text="Percent.")
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
        commodity = services.commodity_create(actor=request.user, **data.validated_data)
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
        gst_rate = _decimal(5, 2, min_value=Decimal(0), max_value=Decimal(100), required=False)
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
        services.commodity_update(actor=request.user, commodity_id=commodity_id, **data.validated_data)
        return Response(CommodityOutput(selectors.commodity_get(commodity_id)).data)


# --- varieties --------------------------------------------------------------------------------


class VarietyListApi(CommoditiesApi):
    @extend_schema(
        operation_id="commodities_varieties_list",
        tags=[TAG],
        parameters=[*PAGE_PARAMETERS, ACTIVE_PARAMETER],
        responses={200: VarietyPageOutput},
        summary="Varieties of a commodity (by code)",
    )
    def get(self, request: Request, commodity_id: UUID) -> Response:
        varieties = selectors.varieties_list(commodity_id=commodity_id, is_active=_active(request))
        return _page(self, request, varieties, VarietyOutput, ByCode)


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
        variety = services.variety_create(actor=request.user, commodity_id=commodity_id, **data.validated_data)
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
        variety = services.variety_update(
            actor=request.user, commodity_id=commodity_id, variety_id=variety_id, **data.validated_data
        )
        return Response(VarietyOutput(variety).data)


# --- quality parameters -----------------------------------------------------------------------


class ParameterListApi(CommoditiesApi):
    @extend_schema(
        operation_id="commodities_parameters_list",
        tags=[TAG],
        parameters=[*PAGE_PARAMETERS, ACTIVE_PARAMETER],
        responses={200: QualityParameterPageOutput},
        summary="Quality parameters of a commodity (display order)",
    )
    def get(self, request: Request, commodity_id: UUID) -> Response:
        parameters = selectors.parameters_list(commodity_id=commodity_id, is_active=_active(request))
        return _page(self, request, parameters, QualityParameterOutput, ByDisplayOrder)


class ParameterCreateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "QualityParameterCreateInput"

        code = serializers.RegexField(SNAKE_CODE, max_length=40, help_text="snake_case, stable.")
        name = serializers.CharField(max_length=100)
        kind = serializers.ChoiceField(choices=ParameterKind.choices)
        unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
        min_value = _decimal(required=False, allow_null=True, default=None)
        max_value = _decimal(required=False, allow_null=True, default=None)
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
        parameter = services.parameter_create(actor=request.user, commodity_id=commodity_id, **data.validated_data)
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
        min_value = _decimal(required=False, allow_null=True)
        max_value = _decimal(required=False, allow_null=True)
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
        parameter = services.parameter_update(
            actor=request.user, commodity_id=commodity_id, parameter_id=parameter_id, **data.validated_data
        )
        return Response(QualityParameterOutput(parameter).data)


# --- schedules --------------------------------------------------------------------------------


class ScheduleRuleInput(serializers.Serializer):
    class Meta:
        ref_name = "ScheduleRuleInput"

    parameter = serializers.CharField(max_length=40, help_text="The parameter's code, e.g. staple_length.")
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    lower = _decimal(required=False, allow_null=True, default=None)
    upper = _decimal(required=False, allow_null=True, default=None)
    basis = _decimal(required=False, allow_null=True, default=None, help_text="RATIO: equals lower or upper.")
    adjustment_kind = serializers.ChoiceField(
        choices=AdjustmentKind.choices, required=False, allow_blank=True, default=""
    )
    value = _decimal(required=False, allow_null=True, default=None, help_text="Signed: -3 is a discount.")
    step = _decimal(required=False, allow_null=True, default=None, help_text="RATIO: points per step (1).")
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
        schedules = selectors.schedules_list(commodity_id=commodity_id, is_active=_active(request))
        return _page(self, request, schedules, QualityScheduleOutput, NewestVersionFirst)


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
        rules = [services.RuleSpec(**rule) for rule in values.pop("rules")]
        schedule = services.schedule_create(actor=request.user, commodity_id=commodity_id, rules=rules, **values)
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
        services.schedule_activate(actor=request.user, commodity_id=commodity_id, schedule_id=schedule_id)
        schedule = selectors.schedule_get(commodity_id=commodity_id, schedule_id=schedule_id)
        return Response(QualityScheduleOutput(schedule).data)


class PriceAdjustmentApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PriceAdjustmentInput"

        values = serializers.DictField(
            child=QualityValueField(), help_text="Quality values by parameter code; strings keep decimals exact."
        )
        basis_price = _decimal(16, 2, min_value=Decimal("0.01"), help_text="Per the commodity's rate unit.")

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


# --- conversions ------------------------------------------------------------------------------


class ConversionApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ConversionInput"

        quantity = _decimal(20, 3, min_value=Decimal(0), help_text="Not negative; up to 3 decimals.")
        unit = serializers.CharField(max_length=16, help_text="The quantity's unit code, e.g. BALE.")
        price = _decimal(18, 4, min_value=Decimal(0), required=False, allow_null=True, default=None)
        price_unit = serializers.CharField(
            max_length=16, required=False, allow_blank=True, default="", help_text="Default: the rate unit."
        )

    @extend_schema(
        operation_id="commodities_conversions",
        tags=[TAG],
        request=InputSerializer,
        responses={200: ConversionOutput},
        summary="Convert a quantity and price between the commodity's units; the amount in paise",
    )
    def post(self, request: Request, commodity_id: UUID) -> Response:
        data = ConversionApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        commodity = selectors.commodity_get(commodity_id)
        values = data.validated_data
        quote = conversion_quote(
            commodity=commodity,
            quantity=values["quantity"],
            unit=values["unit"],
            price=values["price"],
            price_unit=values["price_unit"] or None,
        )
        return Response(ConversionOutput(quote).data)


# --- commissions ------------------------------------------------------------------------------


class CommissionListApi(CommoditiesApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CommissionFilter"

        is_active = _boolean_filter()
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
        return _page(self, request, commissions, CommissionOutput)


class CommissionCreateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CommissionCreateInput"

        trade_type = serializers.CharField(max_length=40, help_text="A trade type code: SPOT, FORWARD.")
        name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        basis = serializers.ChoiceField(choices=CommissionBasis.choices)
        rate = _decimal(min_value=Decimal(0), help_text="Percent (PERCENTAGE) or amount per unit (FIXED).")
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
        commission = services.commission_create(actor=request.user, commodity_id=commodity_id, **data.validated_data)
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
        rate = _decimal(min_value=Decimal(0), required=False)
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
        services.commission_update(
            actor=request.user, commodity_id=commodity_id, commission_id=commission_id, **data.validated_data
        )
        fresh = selectors.commission_get(commodity_id=commodity_id, commission_id=commission_id)
        return Response(CommissionOutput(fresh).data)


# --- trade terms ------------------------------------------------------------------------------


class TermListApi(CommoditiesApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TradeTermFilter"

        is_active = _boolean_filter()
        search = serializers.CharField(required=False, max_length=100)

    @extend_schema(
        operation_id="terms_list",
        tags=[TERMS_TAG],
        parameters=[
            KIND_PARAMETER,
            *PAGE_PARAMETERS,
            ACTIVE_PARAMETER,
            OpenApiParameter("search", str, description="Part of the code or name."),
        ],
        responses={200: TradeTermPageOutput},
        summary="Trade terms of one kind (by code)",
    )
    def get(self, request: Request, kind: str) -> Response:
        filters = TermListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return _page(self, request, selectors.terms_list(kind=kind, **filters.validated_data), TradeTermOutput, ByCode)


class TermCreateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TradeTermCreateInput"

        code = serializers.RegexField(UPPER_CODE, max_length=40, help_text="Upper case, unique within the kind.")
        name = serializers.CharField(max_length=100)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        is_active = serializers.BooleanField(required=False, default=True)
        shortage_allowance_kg_per_100_bales = _decimal(10, 3, min_value=Decimal(0), required=False, allow_null=True)
        advance_percent = _decimal(5, 2, min_value=Decimal(0), max_value=Decimal(100), required=False, allow_null=True)
        payment_days = serializers.IntegerField(min_value=0, max_value=3650, required=False, allow_null=True)
        carry_charge_percent_per_annum = _decimal(5, 2, min_value=Decimal(0), required=False, allow_null=True)

    @extend_schema(
        operation_id="terms_create",
        tags=[TERMS_TAG],
        parameters=[KIND_PARAMETER],
        request=InputSerializer,
        responses={201: TradeTermOutput},
        summary="Create a trade term (needs commodities.add_tradeterm)",
    )
    def post(self, request: Request, kind: str) -> Response:
        data = TermCreateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        term = services.term_create(actor=request.user, kind=kind, **data.validated_data)
        return Response(TradeTermOutput(term).data, status=201)


class TermRetrieveApi(CommoditiesApi):
    @extend_schema(
        operation_id="terms_retrieve", tags=[TERMS_TAG], parameters=[KIND_PARAMETER], responses={200: TradeTermOutput}
    )
    def get(self, request: Request, kind: str, term_id: UUID) -> Response:
        return Response(TradeTermOutput(selectors.term_get(kind=kind, term_id=term_id)).data)


class TermUpdateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TradeTermUpdateInput"

        name = serializers.CharField(max_length=100, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        is_active = serializers.BooleanField(required=False)
        shortage_allowance_kg_per_100_bales = _decimal(10, 3, min_value=Decimal(0), required=False, allow_null=True)
        advance_percent = _decimal(5, 2, min_value=Decimal(0), max_value=Decimal(100), required=False, allow_null=True)
        payment_days = serializers.IntegerField(min_value=0, max_value=3650, required=False, allow_null=True)
        carry_charge_percent_per_annum = _decimal(5, 2, min_value=Decimal(0), required=False, allow_null=True)

    @extend_schema(
        operation_id="terms_partial_update",
        tags=[TERMS_TAG],
        parameters=[KIND_PARAMETER],
        request=InputSerializer,
        responses={200: TradeTermOutput},
        summary="Change a trade term (needs commodities.change_tradeterm)",
    )
    def patch(self, request: Request, kind: str, term_id: UUID) -> Response:
        data = TermUpdateApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        term = services.term_update(actor=request.user, term_id=term_id, kind=kind, **data.validated_data)
        return Response(TradeTermOutput(term).data)


class TermDeactivateApi(CommoditiesApi):
    @extend_schema(
        operation_id="terms_deactivate",
        tags=[TERMS_TAG],
        parameters=[KIND_PARAMETER],
        request=None,
        responses={200: TradeTermOutput},
        summary="Deactivate a trade term (needs commodities.change_tradeterm)",
    )
    def post(self, request: Request, kind: str, term_id: UUID) -> Response:
        term = services.term_update(actor=request.user, term_id=term_id, kind=kind, is_active=False)
        return Response(TradeTermOutput(term).data)


# Routing classes for paths that carry more than one operation (no docstrings: the schema takes
# each operation's own).


class CommodityCollectionApi(CommodityListApi, CommodityCreateApi):
    pass


class CommodityDetailApi(CommodityRetrieveApi, CommodityUpdateApi):
    pass


class VarietyCollectionApi(VarietyListApi, VarietyCreateApi):
    pass


class VarietyDetailApi(VarietyRetrieveApi, VarietyUpdateApi):
    pass


class ParameterCollectionApi(ParameterListApi, ParameterCreateApi):
    pass


class ParameterDetailApi(ParameterRetrieveApi, ParameterUpdateApi):
    pass


class ScheduleCollectionApi(ScheduleListApi, ScheduleCreateApi):
    pass


class CommissionCollectionApi(CommissionListApi, CommissionCreateApi):
    pass


class CommissionDetailApi(CommissionRetrieveApi, CommissionUpdateApi):
    pass


class TermCollectionApi(TermListApi, TermCreateApi):
    pass


class TermDetailApi(TermRetrieveApi, TermUpdateApi):
    pass
