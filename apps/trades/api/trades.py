"""/api/v1/trades/: the list (scoped to the parties and the organization's staff, cursor pages,
constant queries), a trade, its status steps, branch selection, amendments (approve/reject),
cancellation and the confirmation PDF."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.pagination import CappedCursorPagination
from apps.tradedesk.api.common import PageOutput, user, validated
from apps.trades import selectors
from apps.trades.api.common import PAGE_PARAMETERS, TAG, OnBehalfInput, ReasonInput
from apps.trades.models import AmendmentKind, TradeStatus
from apps.trades.pdf import trade_confirmation_pdf
from apps.trades.services import amendments as amendment_services
from apps.trades.services import trades as services


def money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2)


class TradeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=TradeStatus.choices)
    negotiation_id = serializers.UUIDField()
    requirement_id = serializers.UUIDField()
    availability_id = serializers.UUIDField()
    buyer = serializers.JSONField(source="buyer_snapshot")
    seller = serializers.JSONField(source="seller_snapshot")
    bill_to = serializers.JSONField()
    ship_to = serializers.JSONField()
    ship_from = serializers.JSONField()
    goods = serializers.JSONField(source="goods_snapshot")
    quality = serializers.JSONField()
    quantity = serializers.DecimalField(max_digits=16, decimal_places=3)
    quantity_unit = serializers.CharField(source="quantity_unit.code")
    quantity_unit_factor = serializers.DecimalField(max_digits=20, decimal_places=8)
    quantity_kg = serializers.DecimalField(max_digits=16, decimal_places=3)
    delivered_kg = serializers.DecimalField(max_digits=16, decimal_places=3)
    price = money()
    price_unit = serializers.CharField(source="price_unit.code")
    price_unit_factor = serializers.DecimalField(max_digits=20, decimal_places=8)
    price_per_kg = serializers.DecimalField(max_digits=14, decimal_places=4)
    currency = serializers.CharField()
    amount = money()
    gst_rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    tax_kind = serializers.CharField()
    place_of_supply = serializers.CharField()
    cgst_amount = money()
    sgst_amount = money()
    igst_amount = money()
    tax_amount = money()
    total_amount = money()
    reverse_charge = serializers.BooleanField()
    delivery_from = serializers.DateField()
    delivery_until = serializers.DateField()
    terms = serializers.JSONField(source="terms_snapshot")
    commission = serializers.JSONField()
    commission_amount = money()
    cancel_requested_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class TradePageOutput(PageOutput):
    results = TradeOutput(many=True)


class AmendmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=AmendmentKind.choices)
    status = serializers.CharField()
    requested_by_side = serializers.CharField()
    old_values = serializers.JSONField()
    new_values = serializers.JSONField()
    reason = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    created_at = serializers.DateTimeField()


class TradeFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=TradeStatus.choices, required=False)


class TradeStatusInput(ReasonInput):
    status = serializers.ChoiceField(choices=TradeStatus.choices)


class TradeBranchesInput(OnBehalfInput):
    bill_to_branch_id = serializers.UUIDField(required=False, allow_null=True)
    ship_to_branch_id = serializers.UUIDField(required=False, allow_null=True)
    ship_from_branch_id = serializers.UUIDField(required=False, allow_null=True)


class AmendmentRequestInput(ReasonInput):
    kind = serializers.ChoiceField(choices=AmendmentKind.choices)
    values = serializers.DictField(
        help_text="PRICE {price}, QUANTITY {quantity}, DELIVERY_DATE {delivery_from, delivery_until}, ADDRESS {ship_to_branch_id | bill_to_branch_id | ship_from_branch_id}."
    )


class AmendmentDecisionInput(OnBehalfInput):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


def _read(request: Request, trade_id: UUID, status: int = 200) -> Response:
    return Response(TradeOutput(selectors.trade_get(user(request), trade_id)).data, status=status)


class TradeCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG], operation_id="trades_list", parameters=[TradeFilters, *PAGE_PARAMETERS], responses=TradePageOutput
    )
    def get(self, request: Request) -> Response:
        filters = TradeFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        found = selectors.trades_visible_to(user(request), status=filters.validated_data.get("status"))
        paginator = CappedCursorPagination()
        page = paginator.paginate_queryset(selectors.with_trade_details(found), request, view=self)
        return paginator.get_paginated_response(TradeOutput(page, many=True).data)


class TradeDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="trade_get", responses=TradeOutput)
    def get(self, request: Request, trade_id: UUID) -> Response:
        return _read(request, trade_id)


class TradeStatusApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="trade_status_change", request=TradeStatusInput, responses=TradeOutput)
    def post(self, request: Request, trade_id: UUID) -> Response:
        selectors.trade_get(user(request), trade_id)
        values = validated(TradeStatusInput, request)
        services.trade_status_change(
            actor=user(request),
            trade_id=trade_id,
            to_status=values["status"],
            reason=values["reason"],
            on_behalf_of=values.get("on_behalf_of"),
        )
        return _read(request, trade_id)


class TradeBranchesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="trade_branches_select", request=TradeBranchesInput, responses=TradeOutput)
    def post(self, request: Request, trade_id: UUID) -> Response:
        selectors.trade_get(user(request), trade_id)
        values = validated(TradeBranchesInput, request)
        services.trade_branches_select(actor=user(request), trade_id=trade_id, **values)
        return _read(request, trade_id)


class TradeCancelApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="trade_cancel", request=ReasonInput, responses=TradeOutput)
    def post(self, request: Request, trade_id: UUID) -> Response:
        selectors.trade_get(user(request), trade_id)
        values = validated(ReasonInput, request)
        services.trade_cancel(
            actor=user(request), trade_id=trade_id, reason=values["reason"], on_behalf_of=values.get("on_behalf_of")
        )
        return _read(request, trade_id)


class TradeAmendmentsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="trade_amendments_list", responses=AmendmentOutput(many=True))
    def get(self, request: Request, trade_id: UUID) -> Response:
        trade = selectors.trade_get(user(request), trade_id)
        return Response(AmendmentOutput(selectors.amendments_of(trade), many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="trade_amendment_request",
        request=AmendmentRequestInput,
        responses={201: AmendmentOutput},
    )
    def post(self, request: Request, trade_id: UUID) -> Response:
        selectors.trade_get(user(request), trade_id)
        values = validated(AmendmentRequestInput, request)
        amendment = amendment_services.trade_amendment_request(
            actor=user(request),
            trade_id=trade_id,
            kind=values["kind"],
            values=values["values"],
            reason=values["reason"],
            on_behalf_of=values.get("on_behalf_of"),
        )
        return Response(AmendmentOutput(amendment).data, status=201)


class _AmendmentDecisionApi(APIView):
    permission_classes = [IsAuthenticated]
    approve = True

    def post(self, request: Request, trade_id: UUID, amendment_id: UUID) -> Response:
        selectors.trade_get(user(request), trade_id)
        values = validated(AmendmentDecisionInput, request)
        amendment = amendment_services.trade_amendment_decide(
            actor=user(request),
            trade_id=trade_id,
            amendment_id=amendment_id,
            approve=self.approve,
            note=values["note"],
            on_behalf_of=values.get("on_behalf_of"),
        )
        return Response(AmendmentOutput(amendment).data)


class TradeAmendmentApproveApi(_AmendmentDecisionApi):
    approve = True

    @extend_schema(
        tags=[TAG], operation_id="trade_amendment_approve", request=AmendmentDecisionInput, responses=AmendmentOutput
    )
    def post(self, request: Request, trade_id: UUID, amendment_id: UUID) -> Response:
        return super().post(request, trade_id, amendment_id)


class TradeAmendmentRejectApi(_AmendmentDecisionApi):
    approve = False

    @extend_schema(
        tags=[TAG], operation_id="trade_amendment_reject", request=AmendmentDecisionInput, responses=AmendmentOutput
    )
    def post(self, request: Request, trade_id: UUID, amendment_id: UUID) -> Response:
        return super().post(request, trade_id, amendment_id)


class TradeConfirmationPdfApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="trade_confirmation_pdf",
        responses={(200, "application/pdf"): OpenApiResponse(response=OpenApiTypes.BINARY)},
    )
    def get(self, request: Request, trade_id: UUID) -> HttpResponse:
        trade = selectors.trade_get(user(request), trade_id)
        response = HttpResponse(trade_confirmation_pdf(trade), content_type="application/pdf")
        filename = trade.number.replace("/", "-")
        response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
        response["Cache-Control"] = "no-store"
        return response


T = "trades/<uuid:trade_id>"

urlpatterns = [
    path("trades/", TradeCollectionApi.as_view(), name="trades"),
    path(T, TradeDetailApi.as_view(), name="trade"),
    path(f"{T}/status", TradeStatusApi.as_view(), name="trade-status"),
    path(f"{T}/branches", TradeBranchesApi.as_view(), name="trade-branches"),
    path(f"{T}/cancel", TradeCancelApi.as_view(), name="trade-cancel"),
    path(f"{T}/amendments/", TradeAmendmentsApi.as_view(), name="trade-amendments"),
    path(
        f"{T}/amendments/<uuid:amendment_id>/approve",
        TradeAmendmentApproveApi.as_view(),
        name="trade-amendment-approve",
    ),
    path(
        f"{T}/amendments/<uuid:amendment_id>/reject", TradeAmendmentRejectApi.as_view(), name="trade-amendment-reject"
    ),
    path(f"{T}/confirmation.pdf", TradeConfirmationPdfApi.as_view(), name="trade-confirmation-pdf"),
]
