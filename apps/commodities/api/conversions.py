"""Quantity and price conversions between a commodity's units."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.commodities import selectors
from apps.commodities.api.common import (
    COMMODITY_PATH,
    TAG,
    CommoditiesApi,
    decimal_field,
)
from apps.commodities.api.serializers import (
    ConversionOutput,
)
from apps.commodities.conversions import conversion_quote


class ConversionApi(CommoditiesApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ConversionInput"

        quantity = decimal_field(20, 3, min_value=Decimal(0), help_text="Not negative; up to 3 decimals.")
        unit = serializers.CharField(max_length=16, help_text="The quantity's unit code, e.g. BALE.")
        price = decimal_field(18, 4, min_value=Decimal(0), required=False, allow_null=True, default=None)
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


urlpatterns: list[URLPattern] = [
    path(f"{COMMODITY_PATH}/conversions", ConversionApi.as_view(), name="commodity-conversions"),
]
