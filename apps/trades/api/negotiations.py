"""/api/v1/negotiations/: start from a match token, offers, accept (Idempotency-Key required),
reject, cancel, messages. Views are thin: selectors scope the lookup (404 outside it), services
decide."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ValidationFailed
from apps.core.idempotency import RequiresIdempotencyKey
from apps.core.pagination import CappedCursorPagination
from apps.tradedesk.api.common import DecimalJSONField, PageOutput, checked, user, validated
from apps.trades import selectors
from apps.trades.api.common import PAGE_PARAMETERS, TAG, OnBehalfInput, ReasonInput
from apps.trades.api.trades import TradeOutput
from apps.trades.models import NegotiationStatus
from apps.trades.services import negotiations as services
from apps.trades.services import trades as trade_services

ACCEPT_IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A unique value per acceptance (e.g. a UUID), repeated unchanged on every retry.",
)


# --- output ---------------------------------------------------------------------------------------


class NegotiationPartyOutput(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    legal_name = serializers.CharField()
    city = serializers.CharField()
    state_code = serializers.CharField()


class OfferOutput(serializers.Serializer):
    id = serializers.UUIDField()
    round = serializers.IntegerField()
    side = serializers.CharField()
    status = serializers.CharField()
    price = serializers.DecimalField(max_digits=16, decimal_places=2)
    price_unit = serializers.CharField(source="price_unit.code")
    price_per_kg = serializers.DecimalField(max_digits=14, decimal_places=4)
    currency = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=16, decimal_places=3)
    quantity_unit = serializers.CharField(source="quantity_unit.code")
    quantity_kg = serializers.DecimalField(max_digits=16, decimal_places=3)
    delivery_from = serializers.DateField()
    delivery_until = serializers.DateField()
    delivery_term_id = serializers.UUIDField(allow_null=True)
    payment_term_id = serializers.UUIDField(allow_null=True)
    quality_conditions = serializers.JSONField()
    message = serializers.CharField()
    created_at = serializers.DateTimeField()


class NegotiationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=NegotiationStatus.choices)
    match_id = serializers.UUIDField(allow_null=True)
    requirement_id = serializers.UUIDField()
    availability_id = serializers.UUIDField()
    buyer = NegotiationPartyOutput(help_text="Revealed to both parties once the negotiation started.")
    seller = NegotiationPartyOutput()
    started_for = serializers.CharField()
    rounds = serializers.IntegerField()
    max_rounds = serializers.IntegerField()
    next_side = serializers.CharField(help_text="BUYER or SELLER; blank: either side may open.")
    expires_at = serializers.DateTimeField()
    reserved_kg = serializers.SerializerMethodField()
    closed_at = serializers.DateTimeField(allow_null=True)
    close_reason = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_reserved_kg(self, negotiation: Any) -> str | None:
        reservation = negotiation.reservation
        if reservation is None or reservation.status != "ACTIVE":
            return None
        return f"{reservation.quantity_kg:.3f}"


class NegotiationPageOutput(PageOutput):
    results = NegotiationOutput(many=True)


class MessageOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    side = serializers.CharField()
    author_id = serializers.UUIDField(allow_null=True)
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


# --- input ----------------------------------------------------------------------------------------


class NegotiationStartInput(OnBehalfInput):
    match_token = serializers.CharField(max_length=64)


class OfferInput(OnBehalfInput):
    price = serializers.DecimalField(max_digits=16, decimal_places=2)
    price_unit = serializers.CharField(required=False, max_length=16, help_text="Default: the offer's price unit.")
    quantity = serializers.DecimalField(max_digits=16, decimal_places=3)
    quantity_unit = serializers.CharField(required=False, max_length=16, help_text="Default: the offer's unit.")
    delivery_from = serializers.DateField()
    delivery_until = serializers.DateField()
    delivery_term_id = serializers.UUIDField(required=False, allow_null=True)
    payment_term_id = serializers.UUIDField(required=False, allow_null=True)
    quality_conditions = DecimalJSONField(required=False)
    message = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class MessageInput(OnBehalfInput):
    body = serializers.CharField(max_length=2000)


class NegotiationFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=NegotiationStatus.choices, required=False)


# --- views ----------------------------------------------------------------------------------------


def _read(request: Request, negotiation_id: UUID, status: int = 200) -> Response:
    negotiation = selectors.negotiation_get(user(request), negotiation_id)
    return Response(NegotiationOutput(negotiation).data, status=status)


class NegotiationCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="trades_negotiations_list",
        parameters=[NegotiationFilters, *PAGE_PARAMETERS],
        responses=NegotiationPageOutput,
    )
    def get(self, request: Request) -> Response:
        filters = NegotiationFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        found = selectors.negotiations_visible_to(user(request), status=filters.validated_data.get("status"))
        paginator = CappedCursorPagination()
        page = paginator.paginate_queryset(found.select_related("buyer", "seller", "reservation"), request, view=self)
        return paginator.get_paginated_response(NegotiationOutput(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="trades_negotiation_start",
        request=NegotiationStartInput,
        responses={201: NegotiationOutput},
    )
    def post(self, request: Request) -> Response:
        values = validated(NegotiationStartInput, request)
        negotiation = services.negotiation_start(
            actor=user(request), match_token=values["match_token"], on_behalf_of=values.get("on_behalf_of")
        )
        return _read(request, negotiation.pk, status=201)


class NegotiationDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="trades_negotiation_get", responses=NegotiationOutput)
    def get(self, request: Request, negotiation_id: UUID) -> Response:
        return _read(request, negotiation_id)


class NegotiationOffersApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="trades_negotiation_offers_list", responses=OfferOutput(many=True))
    def get(self, request: Request, negotiation_id: UUID) -> Response:
        negotiation = selectors.negotiation_get(user(request), negotiation_id)
        return Response(OfferOutput(selectors.offers_of(negotiation), many=True).data)

    @extend_schema(
        tags=[TAG], operation_id="trades_negotiation_offer_make", request=OfferInput, responses={201: OfferOutput}
    )
    def post(self, request: Request, negotiation_id: UUID) -> Response:
        selectors.negotiation_get(user(request), negotiation_id)
        # Type errors go to the service with the rest: the answer lists every field at once
        # (unless the acting side itself is unreadable).
        values, type_errors = checked(OfferInput, request)
        if any(error["attr"] == "on_behalf_of" for error in type_errors):
            raise ValidationFailed(errors=type_errors)
        on_behalf_of = values.pop("on_behalf_of", None)
        offer = services.negotiation_offer_make(
            actor=user(request),
            negotiation_id=negotiation_id,
            terms=services.OfferTerms(**values),
            on_behalf_of=on_behalf_of,
            prior_errors=type_errors,
        )
        return Response(OfferOutput(offer).data, status=201)


class NegotiationAcceptApi(APIView):
    permission_classes = [IsAuthenticated, RequiresIdempotencyKey]

    @extend_schema(
        tags=[TAG],
        operation_id="trades_negotiation_accept",
        parameters=[ACCEPT_IDEMPOTENCY],
        request=OnBehalfInput,
        responses={201: TradeOutput},
    )
    def post(self, request: Request, negotiation_id: UUID) -> Response:
        selectors.negotiation_get(user(request), negotiation_id)
        values = validated(OnBehalfInput, request)
        trade = trade_services.negotiation_accept(
            actor=user(request), negotiation_id=negotiation_id, on_behalf_of=values.get("on_behalf_of")
        )
        return Response(TradeOutput(selectors.trade_get(user(request), trade.pk)).data, status=201)


class NegotiationRejectApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG], operation_id="trades_negotiation_reject", request=ReasonInput, responses=NegotiationOutput
    )
    def post(self, request: Request, negotiation_id: UUID) -> Response:
        selectors.negotiation_get(user(request), negotiation_id)
        values = validated(ReasonInput, request)
        services.negotiation_reject(
            actor=user(request),
            negotiation_id=negotiation_id,
            reason=values["reason"],
            on_behalf_of=values.get("on_behalf_of"),
        )
        return _read(request, negotiation_id)


class NegotiationCancelApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG], operation_id="trades_negotiation_cancel", request=ReasonInput, responses=NegotiationOutput
    )
    def post(self, request: Request, negotiation_id: UUID) -> Response:
        selectors.negotiation_get(user(request), negotiation_id)
        values = validated(ReasonInput, request)
        services.negotiation_cancel(
            actor=user(request),
            negotiation_id=negotiation_id,
            reason=values["reason"],
            on_behalf_of=values.get("on_behalf_of"),
        )
        return _read(request, negotiation_id)


class NegotiationMessagesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="trades_negotiation_messages_list", responses=MessageOutput(many=True))
    def get(self, request: Request, negotiation_id: UUID) -> Response:
        negotiation = selectors.negotiation_get(user(request), negotiation_id)
        return Response(MessageOutput(selectors.messages_of(negotiation), many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="trades_negotiation_message_post",
        request=MessageInput,
        responses={201: MessageOutput},
    )
    def post(self, request: Request, negotiation_id: UUID) -> Response:
        selectors.negotiation_get(user(request), negotiation_id)
        values = validated(MessageInput, request)
        message = services.negotiation_message_post(
            actor=user(request),
            negotiation_id=negotiation_id,
            body=values["body"],
            on_behalf_of=values.get("on_behalf_of"),
        )
        return Response(MessageOutput(message).data, status=201)


N = "negotiations/<uuid:negotiation_id>"

urlpatterns = [
    path("negotiations/", NegotiationCollectionApi.as_view(), name="negotiations"),
    path(N, NegotiationDetailApi.as_view(), name="negotiation"),
    path(f"{N}/offers/", NegotiationOffersApi.as_view(), name="negotiation-offers"),
    path(f"{N}/accept", NegotiationAcceptApi.as_view(), name="negotiation-accept"),
    path(f"{N}/reject", NegotiationRejectApi.as_view(), name="negotiation-reject"),
    path(f"{N}/cancel", NegotiationCancelApi.as_view(), name="negotiation-cancel"),
    path(f"{N}/messages/", NegotiationMessagesApi.as_view(), name="negotiation-messages"),
]
