"""Units of measure: the list."""

from __future__ import annotations

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.commodities import selectors
from apps.commodities.api.common import (
    ACTIVE_PARAMETER,
    TAG,
    ByCode,
    CommoditiesApi,
    active_filter,
)
from apps.commodities.api.serializers import (
    UnitOutput,
    UnitPageOutput,
)
from apps.core.api.common import PAGE_PARAMETERS, cursor_page


class UnitListApi(CommoditiesApi):
    @extend_schema(
        operation_id="units_list",
        tags=[TAG],
        parameters=[*PAGE_PARAMETERS, ACTIVE_PARAMETER],
        responses={200: UnitPageOutput},
        summary="Units of mass with their exact factor to kg",
    )
    def get(self, request: Request) -> Response:
        return cursor_page(
            request, selectors.units_list(is_active=active_filter(request)), UnitOutput, view=self, pagination=ByCode
        )


urlpatterns: list[URLPattern] = [
    path("units/", UnitListApi.as_view(), name="units"),
]
