"""Matches over the API (SPEC section 8 and 13):

- `GET matches/`: the caller's partner's ACTIVE proposals, both directions, best first, cursor
  paged (constant queries per page). Staff and platform admins get an empty list (the desk reads
  proposals in the admin, with both sides).
- `GET matches/{token}`: one proposal by its token. The caller's own posting is shown in full;
  the counterparty's only as region, rating band, quantity, prices and quality, with the score
  breakdown: never a name, id, branch, phone or document number. Staff of the organization see
  both postings' ids (side `desk`). A token of another partner or organization: 404
  `match_not_found`.
- `GET requirements/{id}/match-report`: why the requirement matches what it matches (reasons
  with counts, near misses), scoped like the requirement itself.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import F, QuerySet
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.common import PAGE_PARAMETERS
from apps.core.pagination import CappedCursorPagination
from apps.matching import selectors
from apps.matching.models import MatchProposal
from apps.partners.selectors import partner_id_of
from apps.tradedesk.api.common import PageOutput, kg_field, per_kg_field, user
from apps.tradedesk.market import rating_band
from apps.tradedesk.models import Availability

TAG = "matching"
BUYER, SELLER, DESK = "buyer", "seller", "desk"


class MatchComponentsOutput(serializers.Serializer):
    quality = serializers.FloatField()
    price = serializers.FloatField()
    delivery = serializers.FloatField()
    risk = serializers.FloatField()


class MatchCounterpartyOutput(serializers.Serializer):
    role = serializers.CharField(help_text="The counterparty's side: buyer or seller.")
    region = serializers.CharField()
    rating_band = serializers.CharField()


class MatchSummaryOutput(serializers.Serializer):
    token = serializers.CharField()
    side = serializers.CharField(help_text="The caller's side of the pair: buyer or seller.")
    score = serializers.DecimalField(max_digits=7, decimal_places=6)
    components = MatchComponentsOutput()
    commodity_code = serializers.CharField()
    variety_code = serializers.CharField(allow_null=True)
    own_posting_id = serializers.UUIDField(help_text="The caller's requirement (buyer) or availability (seller).")
    counterparty = MatchCounterpartyOutput()
    available_kg = kg_field(help_text="What the offer has available.")
    raw_price_per_kg = per_kg_field()
    adjusted_price_per_kg = per_kg_field(help_text="Quality-adjusted at the buyer's basis (plus freight).")
    proposed_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class MatchPageOutput(PageOutput):
    results = MatchSummaryOutput(many=True)


class MatchOfferOutput(serializers.Serializer):
    availability_id = serializers.UUIDField(allow_null=True, help_text="Null unless it is the caller's own.")
    number = serializers.CharField(allow_null=True, help_text="Null unless it is the caller's own.")
    region = serializers.CharField()
    rating_band = serializers.CharField()
    variety_code = serializers.CharField(allow_null=True)
    available_kg = kg_field()
    min_order_kg = kg_field()
    partial_allowed = serializers.BooleanField()
    price_per_kg = per_kg_field()
    quality = serializers.DictField(child=serializers.CharField())
    available_from = serializers.DateTimeField()
    available_until = serializers.DateTimeField()


class MatchRequirementOutput(serializers.Serializer):
    requirement_id = serializers.UUIDField(allow_null=True, help_text="Null unless it is the caller's own.")
    number = serializers.CharField(allow_null=True, help_text="Null unless it is the caller's own.")
    region = serializers.CharField()
    rating_band = serializers.CharField()
    min_kg = kg_field()
    max_kg = kg_field()
    max_price_per_kg = per_kg_field()
    preferred_price_per_kg = per_kg_field(allow_null=True)
    spec = serializers.JSONField()
    delivery_from = serializers.DateField()
    delivery_until = serializers.DateField()
    urgency = serializers.CharField()


class MatchDetailOutput(serializers.Serializer):
    token = serializers.CharField()
    side = serializers.CharField(help_text="The caller's side: buyer, seller, or desk (staff).")
    status = serializers.CharField()
    score = serializers.DecimalField(max_digits=7, decimal_places=6)
    components = MatchComponentsOutput()
    weights = serializers.JSONField(help_text="The weights and minimum score used, with their version.")
    weights_version = serializers.IntegerField()
    schedule_version = serializers.IntegerField(allow_null=True)
    raw_price_per_kg = per_kg_field()
    adjusted_price_per_kg = per_kg_field()
    explanation = serializers.JSONField(help_text="The adjusted price line by line (schedule, freight).")
    filters_passed = serializers.ListField(child=serializers.CharField())
    risk_result = serializers.CharField()
    commodity_code = serializers.CharField()
    offer = MatchOfferOutput()
    requirement = MatchRequirementOutput()
    proposed_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawn_reason = serializers.CharField()


def _variety_code(offer: Availability) -> str | None:
    return offer.variety.code if offer.variety is not None else None


def _components(proposal: MatchProposal) -> dict[str, float]:
    return {key: proposal.components.get(key, 0.0) for key in ("quality", "price", "delivery", "risk")}


def _side(proposal: MatchProposal, partner_id: UUID | None) -> str:
    if partner_id is not None and partner_id == proposal.buyer_id:
        return BUYER
    if partner_id is not None and partner_id == proposal.seller_id:
        return SELLER
    return DESK


def summary_row(proposal: MatchProposal, partner_id: UUID | None) -> dict[str, Any]:
    """One list row, from a proposal of `_page_queryset` (its annotations, no further query)."""
    side = _side(proposal, partner_id)
    if side == BUYER:
        band = rating_band(proposal.seller_category)  # type: ignore[attr-defined]
        counterparty = {"role": SELLER, "region": proposal.availability.region, "rating_band": band}
        own = proposal.requirement_id
    else:
        band = rating_band(proposal.buyer_category)  # type: ignore[attr-defined]
        counterparty = {"role": BUYER, "region": proposal.requirement_region, "rating_band": band}  # type: ignore[attr-defined]
        own = proposal.availability_id
    return {
        "token": proposal.token,
        "side": side,
        "score": proposal.score,
        "components": _components(proposal),
        "commodity_code": proposal.commodity.code,
        "variety_code": _variety_code(proposal.availability),
        "own_posting_id": own,
        "counterparty": counterparty,
        "available_kg": proposal.availability.available_kg,
        "raw_price_per_kg": proposal.raw_price_per_kg,
        "adjusted_price_per_kg": proposal.adjusted_price_per_kg,
        "proposed_at": proposal.proposed_at,
        "updated_at": proposal.updated_at,
    }


def detail_of(proposal: MatchProposal, partner_id: UUID | None) -> dict[str, Any]:
    side = _side(proposal, partner_id)
    offer, requirement = proposal.availability, proposal.requirement
    sees_offer = side in (SELLER, DESK)
    sees_requirement = side in (BUYER, DESK)
    return {
        "token": proposal.token,
        "side": side,
        "status": proposal.status,
        "score": proposal.score,
        "components": _components(proposal),
        "weights": proposal.weights,
        "weights_version": proposal.weights_version,
        "schedule_version": proposal.schedule_version,
        "raw_price_per_kg": proposal.raw_price_per_kg,
        "adjusted_price_per_kg": proposal.adjusted_price_per_kg,
        "explanation": proposal.explanation,
        "filters_passed": proposal.filters_passed,
        "risk_result": proposal.risk_result,
        "commodity_code": proposal.commodity.code,
        "offer": {
            "availability_id": offer.pk if sees_offer else None,
            "number": offer.number if sees_offer else None,
            "region": offer.region,
            "rating_band": rating_band(proposal.seller.risk_category),
            "variety_code": _variety_code(offer),
            "available_kg": offer.available_kg,
            "min_order_kg": offer.min_order_kg,
            "partial_allowed": offer.partial_allowed,
            "price_per_kg": offer.price_per_kg,
            "quality": {key: str(value) for key, value in (offer.quality or {}).items()},
            "available_from": offer.available_from,
            "available_until": offer.available_until,
        },
        "requirement": {
            "requirement_id": requirement.pk if sees_requirement else None,
            "number": requirement.number if sees_requirement else None,
            "region": requirement.region,
            "rating_band": rating_band(proposal.buyer.risk_category),
            "min_kg": requirement.min_kg,
            "max_kg": requirement.max_kg,
            "max_price_per_kg": requirement.max_price_per_kg,
            "preferred_price_per_kg": requirement.preferred_price_per_kg,
            "spec": requirement.spec,
            "delivery_from": requirement.delivery_from,
            "delivery_until": requirement.delivery_until,
            "urgency": requirement.urgency,
        },
        "proposed_at": proposal.proposed_at,
        "updated_at": proposal.updated_at,
        "withdrawn_at": proposal.withdrawn_at,
        "withdrawn_reason": proposal.withdrawn_reason,
    }


def _page_queryset(proposals: QuerySet[MatchProposal]) -> QuerySet[MatchProposal]:
    """What a page shows, in one query: the postings' few public fields and the posters' risk
    categories (as rating bands), nothing else of the partners."""
    return proposals.select_related("commodity", "availability__variety").annotate(
        requirement_region=F("requirement__region"),
        buyer_category=F("buyer__risk_category"),
        seller_category=F("seller__risk_category"),
    )


class MatchPagination(CappedCursorPagination):
    ordering = ("-score", "id")


class MatchCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG], operation_id="matching_matches_list", parameters=PAGE_PARAMETERS, responses=MatchPageOutput
    )
    def get(self, request: Request) -> Response:
        caller = user(request)
        partner_id = partner_id_of(caller)
        paginator = MatchPagination()
        proposals = selectors.partner_proposals(user=caller, partner_id=partner_id)
        page = paginator.paginate_queryset(_page_queryset(proposals), request, view=self)
        rows = [summary_row(proposal, partner_id) for proposal in page or []]
        return paginator.get_paginated_response(MatchSummaryOutput(rows, many=True).data)


class MatchDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="matching_match_get", responses=MatchDetailOutput)
    def get(self, request: Request, token: str) -> Response:
        caller = user(request)
        proposal = selectors.proposal_for_token(user=caller, token=token)
        return Response(MatchDetailOutput(detail_of(proposal, partner_id_of(caller))).data)


# --- the match report -----------------------------------------------------------------------------


class MatchReportReasonOutput(serializers.Serializer):
    code = serializers.CharField(help_text="variety_mismatch, visibility, ..., quality:<parameter>:<why>.")
    count = serializers.IntegerField()


class MatchNearMissOutput(serializers.Serializer):
    failed = serializers.CharField(help_text="The one filter it fails.")
    score = serializers.FloatField()
    region = serializers.CharField()
    rating_band = serializers.CharField()
    variety_code = serializers.CharField(allow_null=True)
    available_kg = kg_field()
    price_per_kg = per_kg_field()
    adjusted_price_per_kg = per_kg_field()
    quality = serializers.JSONField()


class MatchReportOutput(serializers.Serializer):
    requirement_id = serializers.UUIDField()
    status = serializers.CharField()
    evaluated = serializers.IntegerField(help_text="Active offers of the commodity in the organization.")
    passed = serializers.IntegerField(help_text="Offers passing every filter.")
    proposable = serializers.IntegerField(help_text="Of those, scoring at least the minimum.")
    below_minimum_score = serializers.IntegerField()
    minimum_score = serializers.FloatField()
    weights_version = serializers.IntegerField()
    schedule_version = serializers.IntegerField(allow_null=True)
    reasons = MatchReportReasonOutput(many=True)
    near_misses = MatchNearMissOutput(many=True)
    notes = serializers.ListField(child=serializers.CharField())


class RequirementMatchReportApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="matching_requirement_match_report", responses=MatchReportOutput)
    def get(self, request: Request, requirement_id: UUID) -> Response:
        report = selectors.requirement_match_report(user=user(request), requirement_id=requirement_id)
        return Response(MatchReportOutput(report).data)


urlpatterns = [
    path("matches/", MatchCollectionApi.as_view(), name="matches"),
    path("matches/<str:token>", MatchDetailApi.as_view(), name="match"),
    path(
        "requirements/<uuid:requirement_id>/match-report",
        RequirementMatchReportApi.as_view(),
        name="requirement-match-report",
    ),
]
