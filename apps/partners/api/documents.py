"""A partner's documents after approval: `GET /api/v1/partners/{id}/documents/` (its members and
its organization's staff) and `POST` multipart (its owner, or staff with
partners.change_businesspartner). KYC officers verify or reject them in the admin."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from django.http import FileResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.api.common import PAGE_PARAMETERS
from apps.core.pagination import CappedCursorPagination
from apps.partners import selectors
from apps.partners.documents import serve_document
from apps.partners.models import DocumentStatus, DocumentType
from apps.partners.services.documents import partner_document_upload

TAG = "partners"


class PartnerDocumentRecordOutput(serializers.Serializer):
    id = serializers.UUIDField()
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    content_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    issued_on = serializers.DateField(allow_null=True)
    expires_on = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=DocumentStatus.choices)
    needs_manual_verification = serializers.BooleanField()
    verified_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField()
    application_id = serializers.UUIDField(allow_null=True, help_text="Set on the onboarding application's documents.")
    created_at = serializers.DateTimeField()


class PartnerDocumentPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PartnerDocumentRecordOutput(many=True)


class PartnerDocumentFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=DocumentStatus.choices, required=False)
    document_type = serializers.ChoiceField(choices=DocumentType.choices, required=False)


class PartnerDocumentUploadInput(serializers.Serializer):
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    file = serializers.FileField()
    issued_on = serializers.DateField(required=False, allow_null=True)
    expires_on = serializers.DateField(required=False, allow_null=True)


class PartnerDocumentPage(CappedCursorPagination):
    ordering = ("-created_at", "-id")


class PartnerDocumentCollectionApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=[TAG],
        operation_id="partners_partner_documents_list",
        parameters=[
            PartnerDocumentFilters,
            *PAGE_PARAMETERS,
        ],
        responses=PartnerDocumentPageOutput,
    )
    def get(self, request: Request, partner_id: UUID) -> Response:
        filters = PartnerDocumentFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        documents = selectors.documents_of_partner(cast(User, request.user), partner_id, **filters.validated_data)
        paginator = PartnerDocumentPage()
        page = paginator.paginate_queryset(documents, request, view=self)
        return paginator.get_paginated_response(PartnerDocumentRecordOutput(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="partners_partner_document_upload",
        request={"multipart/form-data": PartnerDocumentUploadInput},
        responses={201: PartnerDocumentRecordOutput},
    )
    def post(self, request: Request, partner_id: UUID) -> Response:
        selectors.partner_get(cast(User, request.user), partner_id)  # 404 outside scope, before the input
        data = PartnerDocumentUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        document = partner_document_upload(actor=cast(User, request.user), partner_id=partner_id, **data.validated_data)
        return Response(PartnerDocumentRecordOutput(document).data, status=201)


class PartnerDocumentFileApi(APIView):
    """The file of one of the partner's documents, for its members and its organization's staff
    (staff also need partners.view_partnerdocument). Streamed inline with the content type
    recognised at upload; never from a public URL."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["partners"],
        operation_id="partners_document_file",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request, partner_id: UUID, document_id: UUID) -> FileResponse:
        document = selectors.partner_document_file_get(cast(User, request.user), partner_id, document_id)
        return serve_document(document)


urlpatterns = [
    path(
        "partners/<uuid:partner_id>/documents/",
        PartnerDocumentCollectionApi.as_view(),
        name="partner-documents",
    ),
    path(
        "partners/<uuid:partner_id>/documents/<uuid:document_id>/file",
        PartnerDocumentFileApi.as_view(),
        name="partner-document-file",
    ),
]
