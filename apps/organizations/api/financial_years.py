"""An organization's financial years: list, open, read, correct, activate."""

from __future__ import annotations

from uuid import UUID

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.actors import request_actor
from apps.core.api.common import PAGE_PARAMETERS, cursor_page, validated_data
from apps.organizations import selectors
from apps.organizations.api.common import ORGANIZATION_PATH, TAG, OrganizationsApi
from apps.organizations.permissions import (
    ADD,
    CHANGE,
    FINANCIAL_YEAR,
)
from apps.organizations.services import financial_years


class FinancialYearOutput(serializers.Serializer):
    id = serializers.UUIDField()
    organization_id = serializers.UUIDField()
    label = serializers.CharField()  # type: ignore[assignment]  # Field.label is the field's own title
    start_date = serializers.DateField()
    end_date = serializers.DateField(help_text="The last day of the year.")
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class FinancialYearPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = FinancialYearOutput(many=True)


class FinancialYearListApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_financial_years_list",
        tags=[TAG],
        parameters=PAGE_PARAMETERS,
        responses={200: FinancialYearPageOutput},
        summary="List the organization's financial years (newest first)",
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        queryset = selectors.financial_years_of(user=request.user, organization_id=organization_id)
        return cursor_page(request, queryset, FinancialYearOutput, view=self)


class FinancialYearCreateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FinancialYearCreateInput"

        start_date = serializers.DateField(
            required=False, help_text="Default: 1 April of the Indian financial year containing today."
        )
        end_date = serializers.DateField(
            required=False, help_text="The last day. Default: the day before the start's anniversary (31 March)."
        )
        label = serializers.CharField(  # type: ignore[assignment]
            max_length=20, required=False, allow_blank=True, default="", help_text="Default: e.g. 2026-27."
        )
        is_active = serializers.BooleanField(
            required=False, default=False, help_text="Activate it now (the organization's first year always is)."
        )

    @extend_schema(
        operation_id="organizations_financial_years_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: FinancialYearOutput},
        summary="Open a financial year (default: 1 April to 31 March); years never overlap",
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        self.authorize(request, organization_id, ADD, FINANCIAL_YEAR)
        data = validated_data(FinancialYearCreateApi.InputSerializer, request.data)
        year = financial_years.financial_year_create(
            organization_id=organization_id, actor=request_actor(request), **data
        )
        return Response(FinancialYearOutput(year).data, status=201)


class FinancialYearRetrieveApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_financial_years_retrieve",
        tags=[TAG],
        responses={200: FinancialYearOutput},
        summary="Read a financial year",
    )
    def get(self, request: Request, organization_id: UUID, financial_year_id: UUID) -> Response:
        year = selectors.financial_year_get(
            user=request.user, organization_id=organization_id, financial_year_id=financial_year_id
        )
        return Response(FinancialYearOutput(year).data)


class FinancialYearUpdateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FinancialYearUpdateInput"

        start_date = serializers.DateField(required=False)
        end_date = serializers.DateField(required=False)
        label = serializers.CharField(max_length=20, required=False)  # type: ignore[assignment]

    @extend_schema(
        operation_id="organizations_financial_years_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: FinancialYearOutput},
        summary="Correct a financial year's dates or label (only before its first document number)",
    )
    def patch(self, request: Request, organization_id: UUID, financial_year_id: UUID) -> Response:
        self.authorize(request, organization_id, CHANGE, FINANCIAL_YEAR)
        changes = validated_data(FinancialYearUpdateApi.InputSerializer, request.data)
        year = financial_years.financial_year_update(
            organization_id=organization_id,
            financial_year_id=financial_year_id,
            actor=request_actor(request),
            **changes,
        )
        return Response(FinancialYearOutput(year).data)


class FinancialYearActivateApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_financial_years_activate",
        tags=[TAG],
        request=None,
        responses={200: FinancialYearOutput},
        summary="Make this the organization's active financial year",
    )
    def post(self, request: Request, organization_id: UUID, financial_year_id: UUID) -> Response:
        self.authorize(request, organization_id, CHANGE, FINANCIAL_YEAR)
        year = financial_years.financial_year_activate(
            organization_id=organization_id, financial_year_id=financial_year_id, actor=request_actor(request)
        )
        return Response(FinancialYearOutput(year).data)


class FinancialYearCollectionApi(FinancialYearListApi, FinancialYearCreateApi):
    pass


class FinancialYearDetailApi(FinancialYearRetrieveApi, FinancialYearUpdateApi):
    pass


urlpatterns: list[URLPattern] = [
    path(
        f"{ORGANIZATION_PATH}/financial-years/",
        FinancialYearCollectionApi.as_view(),
        name="organization-financial-years",
    ),
    path(
        f"{ORGANIZATION_PATH}/financial-years/<uuid:financial_year_id>/",
        FinancialYearDetailApi.as_view(),
        name="organization-financial-year",
    ),
    path(
        f"{ORGANIZATION_PATH}/financial-years/<uuid:financial_year_id>/activate",
        FinancialYearActivateApi.as_view(),
        name="organization-financial-year-activate",
    ),
]
