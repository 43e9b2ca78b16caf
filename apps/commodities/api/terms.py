"""Trade terms by kind (trade types, bargain types, passing, weightment, delivery, payment): list, add, read, change, deactivate."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.urls import URLPattern, path, register_converter
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.requests import request_user
from apps.commodities import selectors
from apps.commodities.api.common import (
    ACTIVE_PARAMETER,
    KIND_PARAMETER,
    TERM_KIND_SLUGS,
    TERMS_TAG,
    UPPER_CODE,
    ByCode,
    CommoditiesApi,
    boolean_filter,
    decimal_field,
)
from apps.commodities.api.serializers import (
    TradeTermOutput,
    TradeTermPageOutput,
)
from apps.commodities.models import (
    TermKind,
)
from apps.commodities.services.terms import term_create, term_update
from apps.core.api.common import PAGE_PARAMETERS, cursor_page


class TermListApi(CommoditiesApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TradeTermFilter"

        is_active = boolean_filter()
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
        return cursor_page(
            request,
            selectors.terms_list(kind=kind, **filters.validated_data),
            TradeTermOutput,
            view=self,
            pagination=ByCode,
        )


class TermCreateApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TradeTermCreateInput"

        code = serializers.RegexField(UPPER_CODE, max_length=40, help_text="Upper case, unique within the kind.")
        name = serializers.CharField(max_length=100)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        is_active = serializers.BooleanField(required=False, default=True)
        shortage_allowance_kg_per_100_bales = decimal_field(
            10, 3, min_value=Decimal(0), required=False, allow_null=True
        )
        advance_percent = decimal_field(
            5, 2, min_value=Decimal(0), max_value=Decimal(100), required=False, allow_null=True
        )
        payment_days = serializers.IntegerField(min_value=0, max_value=3650, required=False, allow_null=True)
        carry_charge_percent_per_annum = decimal_field(5, 2, min_value=Decimal(0), required=False, allow_null=True)

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
        term = term_create(actor=request_user(request), kind=kind, **data.validated_data)
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
        shortage_allowance_kg_per_100_bales = decimal_field(
            10, 3, min_value=Decimal(0), required=False, allow_null=True
        )
        advance_percent = decimal_field(
            5, 2, min_value=Decimal(0), max_value=Decimal(100), required=False, allow_null=True
        )
        payment_days = serializers.IntegerField(min_value=0, max_value=3650, required=False, allow_null=True)
        carry_charge_percent_per_annum = decimal_field(5, 2, min_value=Decimal(0), required=False, allow_null=True)

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
        term = term_update(actor=request_user(request), term_id=term_id, kind=kind, **data.validated_data)
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
        term = term_update(actor=request_user(request), term_id=term_id, kind=kind, is_active=False)
        return Response(TradeTermOutput(term).data)


# Routing classes for paths that carry more than one operation (no docstrings: the schema takes
# each operation's own).


class TermCollectionApi(TermListApi, TermCreateApi):
    pass


class TermDetailApi(TermRetrieveApi, TermUpdateApi):
    pass


class TermKindConverter:
    """`trade-type`, `bargain-type`, `passing`, `weightment`, `delivery`, `payment` <-> TermKind.
    Any other kind is not a URL of ours (404)."""

    regex = "|".join(sorted(TERM_KIND_SLUGS.values(), key=len, reverse=True))

    def to_python(self, value: str) -> str:
        return TermKind(value.upper().replace("-", "_")).value

    def to_url(self, value: str) -> str:
        return TERM_KIND_SLUGS[value]


register_converter(TermKindConverter, "commodities_term_kind")


urlpatterns: list[URLPattern] = [
    path("terms/<commodities_term_kind:kind>/", TermCollectionApi.as_view(), name="terms"),
    path("terms/<commodities_term_kind:kind>/<uuid:term_id>/", TermDetailApi.as_view(), name="term"),
    path(
        "terms/<commodities_term_kind:kind>/<uuid:term_id>/deactivate",
        TermDeactivateApi.as_view(),
        name="term-deactivate",
    ),
]
