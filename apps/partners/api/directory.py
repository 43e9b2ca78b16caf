"""`GET /api/v1/partners/`: the partners the caller may see (staff: their organization's; a
partner user: its own partner; platform admins: all), filterable, cursor-paginated, with a
constant number of queries whatever the page size."""

from __future__ import annotations

from typing import cast

from django.db.models import Q
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.api.common import PAGE_PARAMETERS
from apps.core.pagination import CappedCursorPagination
from apps.partners import selectors
from apps.partners.api.serializers import BusinessPartnerOutput
from apps.partners.models import EntityClass, KycStatus, PartnerStatus, ServiceType


class PartnerFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=PartnerStatus.choices, required=False)
    kyc_status = serializers.ChoiceField(choices=KycStatus.choices, required=False)
    entity_class = serializers.ChoiceField(choices=EntityClass.choices, required=False)
    service_type = serializers.ChoiceField(choices=ServiceType.choices, required=False)
    search = serializers.CharField(required=False, max_length=100)


class PartnerPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = BusinessPartnerOutput(many=True)


class PartnerPage(CappedCursorPagination):
    ordering = ("-created_at", "-id")


class PartnerCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["partners"],
        operation_id="partners_list",
        parameters=[
            PartnerFilters,
            *PAGE_PARAMETERS,
        ],
        responses=PartnerPageOutput,
    )
    def get(self, request: Request) -> Response:
        filters = PartnerFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.partners_visible_to(cast(User, request.user)).select_related("corporate_group")
        data = dict(filters.validated_data)
        search = data.pop("search", None)
        if data:
            queryset = queryset.filter(**data)
        if search:
            queryset = queryset.filter(
                Q(code__icontains=search) | Q(legal_name__icontains=search) | Q(trade_name__icontains=search)
            )
        paginator = PartnerPage()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(BusinessPartnerOutput(page, many=True).data)


urlpatterns = [path("partners/", PartnerCollectionApi.as_view(), name="partners")]
