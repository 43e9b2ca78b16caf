"""Branches of a partner: read by its members and its organization's staff, written by the owner
and staff with the change capability (services.branches)."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.requests import request_user
from apps.core.api.common import PAGE_PARAMETERS
from apps.core.pagination import CappedCursorPagination
from apps.partners import selectors
from apps.partners.api.serializers import TAG
from apps.partners.models import BranchType
from apps.partners.services import branches as services
from apps.partners.services.branches import ensure_can_change_partner

ACTIVE_PARAMETER = OpenApiParameter("is_active", bool, description="Only active (true) or deactivated (false) rows.")


class ActiveFilter(serializers.Serializer):
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)


def active_filter(request: Request) -> bool | None:
    data = ActiveFilter(data=request.query_params)
    data.is_valid(raise_exception=True)
    return cast(bool | None, data.validated_data["is_active"])


class BranchOutput(serializers.Serializer):
    id = serializers.UUIDField()
    partner_id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    branch_type = serializers.ChoiceField(choices=BranchType.choices)
    location_id = serializers.UUIDField(allow_null=True)
    address_line1 = serializers.CharField()
    city = serializers.CharField()
    state_code = serializers.CharField()
    pincode = serializers.CharField()
    gstin = serializers.CharField(allow_null=True)
    can_receive = serializers.BooleanField()
    can_send = serializers.BooleanField()
    is_default_ship_to = serializers.BooleanField()
    is_default_ship_from = serializers.BooleanField()
    capacity_kg = serializers.DecimalField(max_digits=14, decimal_places=3, allow_null=True)
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class BranchPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = BranchOutput(many=True)


class BranchUpdateInput(serializers.Serializer):
    """Every field is optional (PATCH); the code of a branch never changes."""

    name = serializers.CharField(max_length=200)
    branch_type = serializers.ChoiceField(choices=BranchType.choices)
    location_id = serializers.UUIDField(allow_null=True, required=False)
    address_line1 = serializers.CharField(max_length=200)
    city = serializers.CharField(max_length=100)
    state_code = serializers.CharField(max_length=2, help_text="The 2-digit GST state code (24 for Gujarat).")
    pincode = serializers.CharField(max_length=6)
    gstin = serializers.CharField(
        max_length=17,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Required in another state than the partner's (that state's GSTIN with the partner's PAN).",
    )
    can_receive = serializers.BooleanField(required=False)
    can_send = serializers.BooleanField(required=False)
    is_default_ship_to = serializers.BooleanField(
        required=False, help_text="True moves the partner's one default ship-to here."
    )
    is_default_ship_from = serializers.BooleanField(
        required=False, help_text="True moves the partner's one default ship-from here."
    )
    capacity_kg = serializers.DecimalField(max_digits=14, decimal_places=3, required=False, allow_null=True)


class BranchCreateInput(BranchUpdateInput):
    code = serializers.CharField(max_length=20, help_text="Unique per partner; never changes.")


class BranchPage(CappedCursorPagination):
    ordering = ("created_at", "id")


class BranchCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="partners_branches_list",
        parameters=[*PAGE_PARAMETERS, ACTIVE_PARAMETER],
        responses=BranchPageOutput,
    )
    def get(self, request: Request, partner_id: UUID) -> Response:
        branches = selectors.branches_of_partner(request_user(request), partner_id, is_active=active_filter(request))
        paginator = BranchPage()
        page = paginator.paginate_queryset(branches, request, view=self)
        return paginator.get_paginated_response(BranchOutput(page, many=True).data)

    @extend_schema(
        tags=[TAG], operation_id="partners_branch_create", request=BranchCreateInput, responses={201: BranchOutput}
    )
    def post(self, request: Request, partner_id: UUID) -> Response:
        ensure_can_change_partner(request_user(request), selectors.partner_get(request_user(request), partner_id))
        data = BranchCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        branch = services.branch_create(actor=request_user(request), partner_id=partner_id, **data.validated_data)
        return Response(BranchOutput(branch).data, status=201)


class BranchDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="partners_branch_get", responses=BranchOutput)
    def get(self, request: Request, partner_id: UUID, branch_id: UUID) -> Response:
        return Response(BranchOutput(selectors.branch_get(request_user(request), partner_id, branch_id)).data)

    @extend_schema(tags=[TAG], operation_id="partners_branch_update", request=BranchUpdateInput, responses=BranchOutput)
    def patch(self, request: Request, partner_id: UUID, branch_id: UUID) -> Response:
        branch = selectors.branch_get(request_user(request), partner_id, branch_id)
        ensure_can_change_partner(request_user(request), branch.partner)
        data = BranchUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        branch = services.branch_update(
            actor=request_user(request), partner_id=partner_id, branch_id=branch_id, **data.validated_data
        )
        return Response(BranchOutput(branch).data)


class BranchDeactivateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="partners_branch_deactivate", request=None, responses=BranchOutput)
    def post(self, request: Request, partner_id: UUID, branch_id: UUID) -> Response:
        selectors.branch_get(request_user(request), partner_id, branch_id)
        branch = services.branch_deactivate(actor=request_user(request), partner_id=partner_id, branch_id=branch_id)
        return Response(BranchOutput(branch).data)


B = "partners/<uuid:partner_id>/branches"

urlpatterns = [
    path(f"{B}/", BranchCollectionApi.as_view(), name="partner-branches"),
    path(f"{B}/<uuid:branch_id>", BranchDetailApi.as_view(), name="partner-branch"),
    path(f"{B}/<uuid:branch_id>/deactivate", BranchDeactivateApi.as_view(), name="partner-branch-deactivate"),
]
