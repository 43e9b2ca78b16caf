"""The anonymous market over the API (SPEC sections 7 and 13): `market/availabilities/` and
`market/requirements/`, the live postings of the caller's organization it may see, newest first,
cursor-paginated, in one SQL query per page whatever its size (market.py says who sees what).

Partner users get the anonymous rows (`poster` is null); staff of the organization get the same
rows plus PRIVATE postings, with `poster` naming the partner and the posting's number. The
caller's own postings are not listed (they are in `availabilities/` and `requirements/`).
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.requests import request_user
from apps.commodities.models import UPPER_CODE_REGEX, VARIETY_CODE_REGEX
from apps.core.api.common import PAGE_PARAMETERS
from apps.core.pagination import CappedCursorPagination
from apps.locations.models import RegionChoices
from apps.tradedesk import market
from apps.tradedesk.models import AvailabilityStatus, RequirementStatus, Urgency, Visibility

TAG = "tradedesk"
RATING_BAND_CHOICES = [("A", "A (low risk)"), ("B", "B"), ("C", "C"), ("D", "D (critical)"), ("UNRATED", "Unrated")]
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


# --- output ---------------------------------------------------------------------------------------


def _kg(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=3, **options)


def _per_kg(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=4, **options)


def _money(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, **options)


class MarketPosterOutput(serializers.Serializer):
    """Who posted it: shown to the organization's staff only."""

    partner_id = serializers.UUIDField()
    partner_code = serializers.CharField()
    partner_legal_name = serializers.CharField()
    number = serializers.CharField(help_text="The posting's document number (AV/... or RQ/...).")


class MarketStateName(serializers.CharField):
    def to_representation(self, value: Any) -> str:
        return market.state_name(str(value))


class MarketPostingOutput(serializers.Serializer):
    """What every market row shows."""

    id = serializers.UUIDField(help_text="The posting's own id (not the poster's).")
    commodity_id = serializers.UUIDField()
    commodity_code = serializers.CharField(source="commodity.code")
    variety_id = serializers.UUIDField(allow_null=True)
    variety_code = serializers.CharField(source="variety.code", allow_null=True, default=None)
    quantity_unit = serializers.CharField(source="quantity_unit.code")
    price_unit = serializers.CharField(source="price_unit.code")
    currency = serializers.CharField()
    delivery_term_id = serializers.UUIDField(allow_null=True)
    delivery_term_code = serializers.CharField(source="delivery_term.code", allow_null=True, default=None)
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    state_code = serializers.CharField()
    state_name = MarketStateName(source="state_code", help_text="The state's name (India); empty elsewhere.")
    region = serializers.CharField()
    rating_band = serializers.ChoiceField(
        choices=RATING_BAND_CHOICES, help_text="From the poster's risk category: LOW A, MEDIUM B, HIGH C, CRITICAL D."
    )
    poster = MarketPosterOutput(allow_null=True, help_text="The organization's staff only; null for partners.")
    created_at = serializers.DateTimeField()


class MarketAvailabilityOutput(MarketPostingOutput):
    status = serializers.ChoiceField(choices=AvailabilityStatus.choices)
    quantity = _kg(help_text="As entered, in quantity_unit.")
    total_kg = _kg()
    available_kg = _kg()
    min_order_kg = _kg()
    partial_allowed = serializers.BooleanField()
    price = _money(help_text="Per price_unit.")
    price_per_kg = _per_kg()
    quality = serializers.JSONField(help_text="Per parameter code, as decimal strings (grades as their value).")
    available_from = serializers.DateTimeField()
    available_until = serializers.DateTimeField()
    day_only = serializers.BooleanField()
    expires_at = serializers.DateTimeField()


class MarketAvailabilityPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MarketAvailabilityOutput(many=True)


class MarketRequirementOutput(MarketPostingOutput):
    status = serializers.ChoiceField(choices=RequirementStatus.choices)
    min_quantity = _kg()
    max_quantity = _kg()
    preferred_quantity = _kg(allow_null=True)
    min_kg = _kg()
    max_kg = _kg()
    preferred_kg = _kg(allow_null=True)
    fulfilled_kg = _kg()
    remaining_kg = _kg(help_text="max_kg - fulfilled_kg: what the buyer still wants.")
    spec = serializers.JSONField(help_text="Per parameter code: min, max, preferred, exact, accepted.")
    max_price = _money()
    preferred_price = _money(allow_null=True)
    max_price_per_kg = _per_kg()
    preferred_price_per_kg = _per_kg(allow_null=True)
    payment_term_id = serializers.UUIDField(allow_null=True)
    payment_term_code = serializers.CharField(source="payment_term.code", allow_null=True, default=None)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    delivery_from = serializers.DateField()
    delivery_until = serializers.DateField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)


class MarketRequirementPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MarketRequirementOutput(many=True)


# The rows of a page, built from the selectors' plain rows (market_*_rows) in one pass: the same
# JSON as the Market*Output serializers above (which stay the documented schema; a test holds the
# two equal) without a model instance or a serializer field per value. Each helper is what the
# matching DRF field does: UUIDs as strings, decimals fixed to the field's places, datetimes in the
# current time zone in ISO 8601 with Z for UTC, nulls as null.

_KG_PLACES = Decimal("0.001")
_PER_KG_PLACES = Decimal("0.0001")
_MONEY_PLACES = Decimal("0.01")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _fixed(value: Decimal | None, places: Decimal) -> str | None:
    return None if value is None else f"{value.quantize(places):f}"


def _instant(value: datetime | None, zone: tzinfo) -> str | None:
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _poster(poster: dict[str, Any] | None) -> dict[str, Any] | None:
    if poster is None:
        return None
    return {
        "partner_id": _text(poster.get("partner_id")),
        "partner_code": _text(poster.get("partner_code")),
        "partner_legal_name": _text(poster.get("partner_legal_name")),
        "number": _text(poster.get("number")),
    }


def _posting_row(row: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "commodity_id": str(row["commodity_id"]),
        "commodity_code": row["commodity_code"],
        "variety_id": _text(row["variety_id"]),
        "variety_code": row["variety_code"],
        "quantity_unit": row["quantity_unit_code"],
        "price_unit": row["price_unit_code"],
        "currency": row["currency"],
        "delivery_term_id": _text(row["delivery_term_id"]),
        "delivery_term_code": row["delivery_term_code"],
        "visibility": row["visibility"],
        "state_code": row["state_code"],
        "state_name": market.state_name(row["state_code"]),
        "region": row["region"],
        "rating_band": row["rating_band"],
        "poster": _poster(row["poster"]),
        "created_at": _instant(row["created_at"], zone),
        "status": row["status"],
    }


def availability_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What MarketAvailabilityOutput(many=True) gives for the same postings."""
    zone = timezone.get_current_timezone()
    out = []
    for row in rows:
        item = _posting_row(row, zone)
        item["quantity"] = _fixed(row["quantity"], _KG_PLACES)
        item["total_kg"] = _fixed(row["total_kg"], _KG_PLACES)
        item["available_kg"] = _fixed(row["available_kg"], _KG_PLACES)
        item["min_order_kg"] = _fixed(row["min_order_kg"], _KG_PLACES)
        item["partial_allowed"] = row["partial_allowed"]
        item["price"] = _fixed(row["price"], _MONEY_PLACES)
        item["price_per_kg"] = _fixed(row["price_per_kg"], _PER_KG_PLACES)
        item["quality"] = row["quality"]
        item["available_from"] = _instant(row["available_from"], zone)
        item["available_until"] = _instant(row["available_until"], zone)
        item["day_only"] = row["day_only"]
        item["expires_at"] = _instant(row["expires_at"], zone)
        out.append(item)
    return out


def requirement_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What MarketRequirementOutput(many=True) gives for the same postings."""
    zone = timezone.get_current_timezone()
    out = []
    for row in rows:
        item = _posting_row(row, zone)
        item["min_quantity"] = _fixed(row["min_quantity"], _KG_PLACES)
        item["max_quantity"] = _fixed(row["max_quantity"], _KG_PLACES)
        item["preferred_quantity"] = _fixed(row["preferred_quantity"], _KG_PLACES)
        item["min_kg"] = _fixed(row["min_kg"], _KG_PLACES)
        item["max_kg"] = _fixed(row["max_kg"], _KG_PLACES)
        item["preferred_kg"] = _fixed(row["preferred_kg"], _KG_PLACES)
        item["fulfilled_kg"] = _fixed(row["fulfilled_kg"], _KG_PLACES)
        item["remaining_kg"] = _fixed(row["remaining_kg"], _KG_PLACES)
        item["spec"] = row["spec"]
        item["max_price"] = _fixed(row["max_price"], _MONEY_PLACES)
        item["preferred_price"] = _fixed(row["preferred_price"], _MONEY_PLACES)
        item["max_price_per_kg"] = _fixed(row["max_price_per_kg"], _PER_KG_PLACES)
        item["preferred_price_per_kg"] = _fixed(row["preferred_price_per_kg"], _PER_KG_PLACES)
        item["payment_term_id"] = _text(row["payment_term_id"])
        item["payment_term_code"] = row["payment_term_code"]
        item["urgency"] = row["urgency"]
        item["delivery_from"] = _day(row["delivery_from"])
        item["delivery_until"] = _day(row["delivery_until"])
        item["valid_from"] = _instant(row["valid_from"], zone)
        item["valid_until"] = _instant(row["valid_until"], zone)
        item["published_at"] = _instant(row["published_at"], zone)
        out.append(item)
    return out


# --- filters --------------------------------------------------------------------------------------


def _id_or_code(value: str, code_regex: str, what: str) -> str:
    value = value.strip()
    if UUID_RE.fullmatch(value):
        return value
    code = value.upper()
    if not re.fullmatch(code_regex, code):
        raise serializers.ValidationError(f"Give the {what}'s id or its code.", code="invalid")
    return code


class MarketFiltersInput(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        # DRF deep-copies the declared fields for every serializer, rebuilding each from its
        # arguments: about half of validating a market filter (90 of 165 us, on every filtered
        # page, issue 15). A shallow copy is enough for these fields: binding sets the copy's own
        # name, parent and source, and what the copies share (validators, choices, messages)
        # validation only reads. The declared fields themselves are never bound.
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    commodity = serializers.CharField(required=False, max_length=40, help_text="A commodity id or code (COTTON).")
    variety = serializers.CharField(required=False, max_length=40, help_text="A variety id or code (SHANKAR-6).")
    price_per_kg_min = _per_kg(required=False, min_value=0)
    price_per_kg_max = _per_kg(required=False, min_value=0)
    state = serializers.RegexField(
        r"^[A-Za-z0-9]{2}$", required=False, help_text="A two-letter state code (GJ, MH, TN ...)."
    )
    region = serializers.ChoiceField(choices=RegionChoices.choices, required=False)

    def validate_commodity(self, value: str) -> str:
        return _id_or_code(value, UPPER_CODE_REGEX, "commodity")

    def validate_variety(self, value: str) -> str:
        return _id_or_code(value, VARIETY_CODE_REGEX, "variety")

    def validate_state(self, value: str) -> str:
        return value.upper()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("price_per_kg_min"), attrs.get("price_per_kg_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"price_per_kg_max": ["Must not be below price_per_kg_min."]}, code="range_invalid"
            )
        return attrs

    def filters(self) -> market.MarketFilters:
        data = self.validated_data
        return market.MarketFilters(
            commodity=data.get("commodity"),
            variety=data.get("variety"),
            price_per_kg_min=data.get("price_per_kg_min"),
            price_per_kg_max=data.get("price_per_kg_max"),
            state_code=data.get("state"),
            region=data.get("region"),
        )


class MarketAvailabilityFilters(MarketFiltersInput):
    min_available_kg = _kg(required=False, min_value=0, help_text="At least this much available, in kg.")

    def filters(self) -> market.MarketFilters:
        filters = super().filters()
        filters.min_available_kg = self.validated_data.get("min_available_kg")
        return filters


# The query parameters that filter the availability market. A request with none of them (the
# first page, a cursor page) is the unfiltered market: its filter input would validate to no
# filters, so the view does not build it (a DRF serializer costs about 7% of such a request).
AVAILABILITY_FILTER_PARAMETERS = frozenset(MarketAvailabilityFilters._declared_fields)


def availability_filtered(params: Any) -> bool:
    return any(key in AVAILABILITY_FILTER_PARAMETERS or key.startswith(market.QUALITY_PREFIX) for key in params)


class MarketRequirementFilters(MarketFiltersInput):
    quantity_kg = _kg(
        required=False,
        min_value=0,
        help_text="Requirements that would take this many kg: min_kg <= q <= max_kg - fulfilled_kg.",
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)

    def filters(self) -> market.MarketFilters:
        filters = super().filters()
        filters.quantity_kg = self.validated_data.get("quantity_kg")
        filters.urgency = self.validated_data.get("urgency")
        return filters


# --- views ----------------------------------------------------------------------------------------


class MarketPage(CappedCursorPagination):
    ordering = ("-created_at", "-id")


AVAILABILITY_DESCRIPTION = """The live availabilities of your organization's market you may see
(PUBLIC ones, RESTRICTED ones your partner is invited to; staff: all, PRIVATE too, with the poster
named). Your own are not listed. Price bounds are per kg.

Quality ranges: `quality.<parameter>.min` / `quality.<parameter>.max` for a NUMERIC parameter
(inclusive, e.g. `quality.staple_length.min=28.5&quality.micronaire.max=4.5`) and
`quality.<parameter>=<value>` for a GRADE one (e.g. `quality.color_grade=31-1`); parameters of
the commodity filtered on, or of any commodity. An unknown parameter or a bad value: 400 with
the parameter named in `errors[].attr`. Postings without a value for the parameter are left out."""

REQUIREMENT_DESCRIPTION = """The live requirements (ACTIVE or PARTIALLY_FULFILLED, inside their
validity) of your organization's market you may see, as for availabilities. Price bounds apply
to the buyer's maximum price per kg; `quantity_kg` keeps those that would take that quantity."""


class MarketAvailabilityListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_market_availabilities_list",
        description=AVAILABILITY_DESCRIPTION,
        parameters=[MarketAvailabilityFilters, *PAGE_PARAMETERS],
        responses=MarketAvailabilityPageOutput,
    )
    def get(self, request: Request) -> Response:
        viewer = market.market_viewer(request_user(request), staff_perm=market.VIEW_AVAILABILITY)
        filters = market.MarketFilters()
        quality_check = None
        if availability_filtered(request.query_params):
            filters_input = MarketAvailabilityFilters(data=request.query_params)
            filters_input.is_valid(raise_exception=True)
            filters = filters_input.filters()
            # The quality parameters' kinds are checked by the page's own statement (one round
            # trip): a parameter that is not one refuses the request from there, as here before.
            filters.quality, quality_check = market.parse_quality_filters_unchecked(
                request.query_params, commodity=filters.commodity
            )
        paginator = MarketPage()
        # Filtered or not, one hand-written statement (issue 15), held equal to the ORM's
        # filter_market_availabilities by test_market_raw_page.py and test_market_raw_filters.py,
        # each row's JSON written by PostgreSQL and held equal there to availability_rows' JSON
        # (so to MarketAvailabilityOutput's): the renderer writes the rows' text as it is.
        rows = market.MarketAvailabilityPage(viewer, filters=filters, quality_check=quality_check)
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(market.page_results(page or []))


class MarketRequirementListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="tradedesk_market_requirements_list",
        description=REQUIREMENT_DESCRIPTION,
        parameters=[MarketRequirementFilters, *PAGE_PARAMETERS],
        responses=MarketRequirementPageOutput,
    )
    def get(self, request: Request) -> Response:
        viewer = market.market_viewer(request_user(request), staff_perm=market.VIEW_REQUIREMENT)
        filters_input = MarketRequirementFilters(data=request.query_params)
        filters_input.is_valid(raise_exception=True)
        rows = market.filter_market_requirements(market.market_requirements(viewer), filters_input.filters())
        paginator = MarketPage()
        page = paginator.paginate_queryset(market.market_requirement_rows(rows), request, view=self)
        return paginator.get_paginated_response(requirement_rows(page or []))


urlpatterns = [
    path("market/availabilities/", MarketAvailabilityListApi.as_view(), name="market-availabilities"),
    path("market/requirements/", MarketRequirementListApi.as_view(), name="market-requirements"),
]
