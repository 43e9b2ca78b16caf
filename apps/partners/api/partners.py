"""The partner record: read by its users and its organization's staff; its contact details changed
by its owner (everything else by an amendment)."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.requests import request_user
from apps.partners import selectors
from apps.partners.api.serializers import (
    TAG,
    BusinessPartnerDetailOutput,
)
from apps.partners.services import profile as partner_profile


class PartnerProfileInput(serializers.Serializer):
    """The contact details a partner's owner may change; every other field of the partner needs
    an amendment (400 field_requires_amendment)."""

    trade_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    contact_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="E.164; a 10-digit Indian number gets +91."
    )
    commodity_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=100, help_text="Active commodities of interest."
    )


class PartnerDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="partners_partner_get", responses=BusinessPartnerDetailOutput)
    def get(self, request: Request, partner_id: UUID) -> Response:
        partner = selectors.partner_get(request_user(request), partner_id)
        return Response(BusinessPartnerDetailOutput(partner).data)

    @extend_schema(
        tags=[TAG],
        operation_id="partners_partner_update",
        request=PartnerProfileInput,
        responses=BusinessPartnerDetailOutput,
        description="Contact details and commodities of interest, by the owner or staff with "
        "partners.change_businesspartner. Legal, tax, bank, address, credit and status fields are "
        "refused (400 field_requires_amendment) and nothing changes.",
    )
    def patch(self, request: Request, partner_id: UUID) -> Response:
        user = request_user(request)
        partner_profile.ensure_can_change_profile(user, selectors.partner_get(user, partner_id))
        partner_profile.ensure_profile_fields_only(request.data.keys() if isinstance(request.data, Mapping) else ())
        data = PartnerProfileInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        partner = partner_profile.partner_profile_update(actor=user, partner_id=partner_id, **data.validated_data)
        return Response(BusinessPartnerDetailOutput(partner).data)


urlpatterns: list[URLPattern] = [
    path("partners/<uuid:partner_id>", PartnerDetailApi.as_view(), name="partner"),
]
