"""What the commodities API modules share: tags, path prefix, code patterns, the orderings of the
lists and their `is_active` filter, and the base view.

Reads are open to every signed-in user (global masters); writes need the model permission,
checked by the services (403 `permission_denied`, nothing written).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.commodities.models import TermKind
from apps.core.pagination import CappedCursorPagination

COMMODITY_PATH = "commodities/<uuid:commodity_id>"
TAG = "commodities"
TERMS_TAG = "terms"

UPPER_CODE = r"^[A-Z][A-Z0-9_]*$"
VARIETY_CODE = r"^[A-Z0-9][A-Z0-9_-]*$"
SNAKE_CODE = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"

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


def boolean_filter() -> serializers.BooleanField:
    # default=None: an absent query parameter means "any", not False.
    return serializers.BooleanField(required=False, allow_null=True, default=None)


def decimal_field(max_digits: int = 12, decimal_places: int = 4, **kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=max_digits, decimal_places=decimal_places, **kwargs)


class CommoditiesApi(APIView):
    permission_classes = [IsAuthenticated]


class ActiveFilter(serializers.Serializer):
    class Meta:
        ref_name = "CommoditiesActiveFilter"

    is_active = boolean_filter()


def active_filter(request: Request) -> bool | None:
    filters = ActiveFilter(data=request.query_params)
    filters.is_valid(raise_exception=True)
    value: bool | None = filters.validated_data["is_active"]
    return value
