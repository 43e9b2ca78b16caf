"""A partner's amendments (SPEC section 6): `GET|POST /api/v1/partners/{id}/amendments/`,
`GET .../amendments/{amendment_id}`, `POST .../amendments/{amendment_id}/cancel`, and the back
office's `POST .../approve` and `.../reject` (the admin queue calls the same services).

Readers: the partner's members and its organization's staff. Requesters: the owner, or staff
holding partners.change_businesspartner keying it for the partner. Deciders: staff holding
partners.decide_amendment, never the one who keyed it. Bank account numbers are shown masked.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.requests import request_user
from apps.core.api.common import PAGE_PARAMETERS
from apps.core.pagination import CappedCursorPagination
from apps.partners import selectors
from apps.partners.models import AmendmentKind, AmendmentStatus, PartnerAmendment
from apps.partners.services import amendments
from apps.partners.services.amendments import REASON_MAX_LENGTH, masked_values

TAG = "partners"


class AmendmentUserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    full_name = serializers.CharField()


class PartnerAmendmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    partner_id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=AmendmentKind.choices)
    status = serializers.ChoiceField(choices=AmendmentStatus.choices)
    old_values = serializers.SerializerMethodField(help_text="The partner's values when it was requested.")
    new_values = serializers.SerializerMethodField()
    changed_fields = serializers.SerializerMethodField()
    reason = serializers.CharField()
    requested_by = AmendmentUserOutput()
    created_at = serializers.DateTimeField()
    decided_by = AmendmentUserOutput(allow_null=True, help_text="Who approved, rejected or cancelled it.")
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField(help_text="The approval note or the rejection reason.")

    def get_old_values(self, amendment: PartnerAmendment) -> dict[str, Any]:
        return masked_values(amendment.old_values)

    def get_new_values(self, amendment: PartnerAmendment) -> dict[str, Any]:
        return masked_values(amendment.new_values)

    def get_changed_fields(self, amendment: PartnerAmendment) -> list[str]:
        return amendments.changed_fields(amendment)


class PartnerAmendmentPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PartnerAmendmentOutput(many=True)


class PartnerAmendmentPage(CappedCursorPagination):
    ordering = ("-created_at", "-id")


class PartnerAmendmentFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=AmendmentStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=AmendmentKind.choices, required=False)


class PartnerAmendmentRequestInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AmendmentKind.choices)
    new_values = serializers.DictField(
        help_text="BANK: bank_account_holder, bank_account_number, bank_ifsc. GST: gstin. ADDRESS: address_line1, "
        "city, state_code, pincode, optional location (id or null). LEGAL: legal_name, pan, and gstin when the PAN "
        'changes. CREDIT_LIMIT: credit_limit (a decimal string, e.g. "2500000.00", above the current limit).'
    )
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, required=False, allow_blank=True)


class PartnerAmendmentApproveInput(serializers.Serializer):
    note = serializers.CharField(max_length=REASON_MAX_LENGTH, required=False, allow_blank=True)


class PartnerAmendmentRejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


class PartnerAmendmentCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="partners_amendments_list",
        parameters=[
            PartnerAmendmentFilters,
            *PAGE_PARAMETERS,
        ],
        responses=PartnerAmendmentPageOutput,
    )
    def get(self, request: Request, partner_id: UUID) -> Response:
        filters = PartnerAmendmentFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.amendments_of_partner(request_user(request), partner_id, **filters.validated_data)
        paginator = PartnerAmendmentPage()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(PartnerAmendmentOutput(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="partners_amendment_request",
        request=PartnerAmendmentRequestInput,
        responses={201: PartnerAmendmentOutput},
        description="Applied only when the back office approves it. The partner's current values are kept as "
        "old_values; a BANK request freezes the partner's payouts until it is decided or cancelled. One PENDING "
        "amendment per kind (409 amendment_already_pending).",
    )
    def post(self, request: Request, partner_id: UUID) -> Response:
        user = request_user(request)
        amendments.ensure_can_request(user, selectors.partner_get(user, partner_id))
        data = PartnerAmendmentRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        amendment = amendments.amendment_request(actor=user, partner_id=partner_id, **data.validated_data)
        return Response(PartnerAmendmentOutput(_reloaded(amendment)).data, status=201)


def _reloaded(amendment: PartnerAmendment) -> PartnerAmendment:
    return PartnerAmendment.objects.select_related("requested_by", "decided_by").get(pk=amendment.pk)


class PartnerAmendmentDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="partners_amendment_get", responses=PartnerAmendmentOutput)
    def get(self, request: Request, partner_id: UUID, amendment_id: UUID) -> Response:
        amendment = selectors.amendment_get(request_user(request), partner_id, amendment_id)
        return Response(PartnerAmendmentOutput(amendment).data)


class PartnerAmendmentCancelApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="partners_amendment_cancel",
        request=None,
        responses=PartnerAmendmentOutput,
        description="By the side that requested it (the partner's owner, or the back office for amendments it "
        "keyed) while PENDING; a BANK cancellation unfreezes payouts.",
    )
    def post(self, request: Request, partner_id: UUID, amendment_id: UUID) -> Response:
        user = request_user(request)
        selectors.amendment_get(user, partner_id, amendment_id)
        amendment = amendments.amendment_cancel(actor=user, amendment_id=amendment_id)
        return Response(PartnerAmendmentOutput(_reloaded(amendment)).data)


class PartnerAmendmentApproveApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="partners_amendment_approve",
        request=PartnerAmendmentApproveInput,
        responses=PartnerAmendmentOutput,
        description="Staff holding partners.decide_amendment, not the one who keyed it (409 "
        "maker_checker_violation). Refused when the partner's values moved since the request (409 "
        "amendment_stale).",
    )
    def post(self, request: Request, partner_id: UUID, amendment_id: UUID) -> Response:
        user = request_user(request)
        amendments.ensure_can_decide(user, selectors.amendment_get(user, partner_id, amendment_id).partner)
        data = PartnerAmendmentApproveInput(data=request.data)
        data.is_valid(raise_exception=True)
        amendment = amendments.amendment_approve(actor=user, amendment_id=amendment_id, **data.validated_data)
        return Response(PartnerAmendmentOutput(_reloaded(amendment)).data)


class PartnerAmendmentRejectApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="partners_amendment_reject",
        request=PartnerAmendmentRejectInput,
        responses=PartnerAmendmentOutput,
        description="Staff holding partners.decide_amendment, not the one who keyed it; a reason is required.",
    )
    def post(self, request: Request, partner_id: UUID, amendment_id: UUID) -> Response:
        user = request_user(request)
        amendments.ensure_can_decide(user, selectors.amendment_get(user, partner_id, amendment_id).partner)
        data = PartnerAmendmentRejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        amendment = amendments.amendment_reject(
            actor=user, amendment_id=amendment_id, reason=data.validated_data["reason"]
        )
        return Response(PartnerAmendmentOutput(_reloaded(amendment)).data)


P = "partners/<uuid:partner_id>/amendments"
urlpatterns = [
    path(f"{P}/", PartnerAmendmentCollectionApi.as_view(), name="partner-amendments"),
    path(f"{P}/<uuid:amendment_id>", PartnerAmendmentDetailApi.as_view(), name="partner-amendment"),
    path(f"{P}/<uuid:amendment_id>/cancel", PartnerAmendmentCancelApi.as_view(), name="partner-amendment-cancel"),
    path(f"{P}/<uuid:amendment_id>/approve", PartnerAmendmentApproveApi.as_view(), name="partner-amendment-approve"),
    path(f"{P}/<uuid:amendment_id>/reject", PartnerAmendmentRejectApi.as_view(), name="partner-amendment-reject"),
]
