"""An organization's document series: list, open, read, change the prefix."""

from __future__ import annotations

from uuid import UUID

from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.actors import request_actor
from apps.core.api.common import PAGE_PARAMETERS, cursor_page, validated_data
from apps.organizations import selectors
from apps.organizations.api.common import ORGANIZATION_PATH, TAG, OrganizationsApi
from apps.organizations.models import DocumentSeries, DocumentType, format_document_number
from apps.organizations.permissions import (
    ADD,
    CHANGE,
    DOCUMENT_SERIES,
)
from apps.organizations.services import document_series


class DocumentSeriesOutput(serializers.Serializer):
    id = serializers.UUIDField()
    organization_id = serializers.UUIDField()
    financial_year_id = serializers.UUIDField()
    financial_year_label = serializers.CharField(source="financial_year.label")
    doc_type = serializers.ChoiceField(choices=DocumentType.choices)
    prefix = serializers.CharField()
    counter = serializers.IntegerField(help_text="The last number issued; 0 before the first.")
    last_number = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_last_number(self, series: DocumentSeries) -> str | None:
        """The last number issued, e.g. `TR/2026-27/000012`; null before the first."""
        if series.counter == 0:
            return None
        return format_document_number(series.prefix, series.financial_year.label, series.counter)


class DocumentSeriesPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DocumentSeriesOutput(many=True)


class DocumentSeriesListApi(OrganizationsApi):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DocumentSeriesFilter"

        financial_year = serializers.UUIDField(required=False)
        doc_type = serializers.ChoiceField(choices=DocumentType.choices, required=False)

    @extend_schema(
        operation_id="organizations_document_series_list",
        tags=[TAG],
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("financial_year", OpenApiTypes.UUID, description="Only this financial year's series."),
            OpenApiParameter("doc_type", str, enum=DocumentType.values, description="Only this document type."),
        ],
        responses={200: DocumentSeriesPageOutput},
        summary="List the organization's document series (newest first)",
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        filters = validated_data(DocumentSeriesListApi.FilterSerializer, request.query_params)
        queryset = selectors.document_series_of(
            user=request.user,
            organization_id=organization_id,
            financial_year_id=filters.get("financial_year"),
            doc_type=filters.get("doc_type"),
        )
        return cursor_page(request, queryset, DocumentSeriesOutput, view=self)


class DocumentSeriesCreateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DocumentSeriesCreateInput"

        financial_year = serializers.UUIDField()
        doc_type = serializers.ChoiceField(choices=DocumentType.choices)
        prefix = serializers.CharField(
            max_length=10, required=False, allow_blank=True, default="", help_text="Default: TR, CT, INV, RQ or AV."
        )

    @extend_schema(
        operation_id="organizations_document_series_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: DocumentSeriesOutput},
        summary="Open a document series for a type in a financial year",
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        self.authorize(request, organization_id, ADD, DOCUMENT_SERIES)
        data = validated_data(DocumentSeriesCreateApi.InputSerializer, request.data)
        series = document_series.document_series_create(
            organization_id=organization_id,
            financial_year_id=data["financial_year"],
            doc_type=data["doc_type"],
            prefix=data["prefix"],
            actor=request_actor(request),
        )
        return Response(DocumentSeriesOutput(series).data, status=201)


class DocumentSeriesRetrieveApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_document_series_retrieve",
        tags=[TAG],
        responses={200: DocumentSeriesOutput},
        summary="Read a document series",
    )
    def get(self, request: Request, organization_id: UUID, document_series_id: UUID) -> Response:
        series = selectors.document_series_get(
            user=request.user, organization_id=organization_id, document_series_id=document_series_id
        )
        return Response(DocumentSeriesOutput(series).data)


class DocumentSeriesUpdateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DocumentSeriesUpdateInput"

        prefix = serializers.CharField(max_length=10)

    @extend_schema(
        operation_id="organizations_document_series_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: DocumentSeriesOutput},
        summary="Change a series' prefix (only before its first number)",
    )
    def patch(self, request: Request, organization_id: UUID, document_series_id: UUID) -> Response:
        self.authorize(request, organization_id, CHANGE, DOCUMENT_SERIES)
        data = validated_data(DocumentSeriesUpdateApi.InputSerializer, request.data)
        series = document_series.document_series_update(
            organization_id=organization_id,
            document_series_id=document_series_id,
            prefix=data["prefix"],
            actor=request_actor(request),
        )
        return Response(DocumentSeriesOutput(series).data)


class DocumentSeriesCollectionApi(DocumentSeriesListApi, DocumentSeriesCreateApi):
    pass


class DocumentSeriesDetailApi(DocumentSeriesRetrieveApi, DocumentSeriesUpdateApi):
    pass


urlpatterns: list[URLPattern] = [
    path(
        f"{ORGANIZATION_PATH}/document-series/",
        DocumentSeriesCollectionApi.as_view(),
        name="organization-document-series-list",
    ),
    path(
        f"{ORGANIZATION_PATH}/document-series/<uuid:document_series_id>/",
        DocumentSeriesDetailApi.as_view(),
        name="organization-document-series",
    ),
]
