"""`POST /api/v1/partners/{id}/status`: suspend, block or reactivate a partner (back office only:
staff with partners.change_partner_status; the partner's own users 403, anyone else 404)."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.partners import selectors
from apps.partners.api.serializers import BusinessPartnerDetailOutput
from apps.partners.models import PartnerStatus
from apps.partners.services.status import REASON_MAX_LENGTH, ensure_can_change_status, partner_change_status


class PartnerStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=PartnerStatus.choices)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


class PartnerStatusApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["partners"],
        operation_id="partners_partner_change_status",
        request=PartnerStatusInput,
        responses=BusinessPartnerDetailOutput,
        description="ACTIVE <-> SUSPENDED, ACTIVE/SUSPENDED -> BLOCKED, BLOCKED -> ACTIVE; a reason is required.",
    )
    def post(self, request: Request, partner_id: UUID) -> Response:
        user = cast(User, request.user)
        ensure_can_change_status(user, selectors.partner_get(user, partner_id))
        data = PartnerStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        partner = partner_change_status(actor=user, partner_id=partner_id, **data.validated_data)
        return Response(BusinessPartnerDetailOutput(partner).data)


urlpatterns = [path("partners/<uuid:partner_id>/status", PartnerStatusApi.as_view(), name="partner-status")]
