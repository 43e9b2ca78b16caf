"""Onboarding API of applicants: their application, its documents, submit and withdraw. The back
office works the queue in the admin (admin/applications.py); both call the same services."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.requests import request_user
from apps.core.api.common import PAGE_PARAMETERS
from apps.core.pagination import CappedCursorPagination
from apps.partners import selectors, services
from apps.partners.api.serializers import (
    TAG,
    OnboardingApplicationOutput,
    OnboardingApplicationPageOutput,
    PartnerDocumentOutput,
)
from apps.partners.models import BusinessType, DocumentType, EntityClass, FilingCompliance, ServiceType
from apps.partners.permissions import ensure_applicant


class ApplicationInput(serializers.Serializer):
    entity_class = serializers.ChoiceField(choices=EntityClass.choices)
    business_type = serializers.ChoiceField(choices=BusinessType.choices)
    service_type = serializers.ChoiceField(choices=ServiceType.choices, required=False, allow_blank=True)
    legal_name = serializers.CharField(max_length=200)
    trade_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    country = serializers.RegexField(r"^[A-Z]{2}$", required=False)
    pan = serializers.CharField(max_length=12, required=False, allow_blank=True)
    gstin = serializers.CharField(max_length=17, required=False, allow_blank=True)
    imports_or_exports = serializers.BooleanField(required=False)
    owns_lorries = serializers.BooleanField(required=False)
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    state_code = serializers.RegexField(r"^[0-9]{2}$", required=False, allow_blank=True)
    pincode = serializers.CharField(max_length=6, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=16, required=False, allow_blank=True)
    bank_account_number = serializers.RegexField(r"^[0-9]{9,18}$", required=False, allow_blank=True)
    bank_ifsc = serializers.CharField(max_length=13, required=False, allow_blank=True)
    business_age_months = serializers.IntegerField(min_value=0, max_value=2400, required=False, allow_null=True)
    gst_turnover = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    filing_compliance = serializers.ChoiceField(choices=FilingCompliance.choices, required=False, allow_blank=True)
    has_quality_lab = serializers.BooleanField(required=False)
    has_own_transport = serializers.BooleanField(required=False)


class ApplicationPatchInput(ApplicationInput):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class ApplicationPage(CappedCursorPagination):
    ordering = ("-created_at", "-id")


class ApplicationCollectionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        operation_id="partners_applications_list",
        parameters=PAGE_PARAMETERS,
        responses=OnboardingApplicationPageOutput,
    )
    def get(self, request: Request) -> Response:
        paginator = ApplicationPage()
        page = paginator.paginate_queryset(
            selectors.applications_of_applicant(request_user(request)), request, view=self
        )
        return paginator.get_paginated_response(OnboardingApplicationOutput(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        operation_id="partners_applications_create",
        request=ApplicationInput,
        responses={201: OnboardingApplicationOutput},
    )
    def post(self, request: Request) -> Response:
        ensure_applicant(request_user(request))
        data = ApplicationInput(data=request.data)
        data.is_valid(raise_exception=True)
        application = services.application_create(applicant=request_user(request), **data.validated_data)
        return Response(OnboardingApplicationOutput(application).data, status=201)


class ApplicationDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], operation_id="partners_application_get", responses=OnboardingApplicationOutput)
    def get(self, request: Request, application_id: UUID) -> Response:
        application = selectors.application_get_for_applicant(request_user(request), application_id)
        return Response(OnboardingApplicationOutput(application).data)

    @extend_schema(
        tags=[TAG],
        operation_id="partners_application_update",
        request=ApplicationPatchInput,
        responses=OnboardingApplicationOutput,
    )
    def patch(self, request: Request, application_id: UUID) -> Response:
        selectors.application_get_for_applicant(request_user(request), application_id)
        data = ApplicationPatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        application = services.application_update(
            applicant=request_user(request), application_id=application_id, **data.validated_data
        )
        return Response(OnboardingApplicationOutput(application).data)


class DocumentUploadApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        document_type = serializers.ChoiceField(choices=DocumentType.choices)
        file = serializers.FileField()
        issued_on = serializers.DateField(required=False, allow_null=True)
        expires_on = serializers.DateField(required=False, allow_null=True)

    @extend_schema(
        tags=[TAG],
        operation_id="partners_application_document_upload",
        request={"multipart/form-data": InputSerializer},
        responses={201: PartnerDocumentOutput},
    )
    def post(self, request: Request, application_id: UUID) -> Response:
        selectors.application_get_for_applicant(request_user(request), application_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.document_upload(
            applicant=request_user(request), application_id=application_id, **data.validated_data
        )
        return Response(PartnerDocumentOutput(document).data, status=201)


class ApplicationSubmitApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG], operation_id="partners_application_submit", request=None, responses=OnboardingApplicationOutput
    )
    def post(self, request: Request, application_id: UUID) -> Response:
        application = services.application_submit(applicant=request_user(request), application_id=application_id)
        return Response(OnboardingApplicationOutput(application).data)


class ApplicationWithdrawApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG], operation_id="partners_application_withdraw", request=None, responses=OnboardingApplicationOutput
    )
    def post(self, request: Request, application_id: UUID) -> Response:
        application = services.application_withdraw(applicant=request_user(request), application_id=application_id)
        return Response(OnboardingApplicationOutput(application).data)


A = "partners/applications/<uuid:application_id>"

urlpatterns: list[URLPattern] = [
    path("partners/applications/", ApplicationCollectionApi.as_view(), name="partner-applications"),
    path(f"{A}/", ApplicationDetailApi.as_view(), name="partner-application"),
    path(f"{A}/documents/", DocumentUploadApi.as_view(), name="partner-application-documents"),
    path(f"{A}/submit", ApplicationSubmitApi.as_view(), name="partner-application-submit"),
    path(f"{A}/withdraw", ApplicationWithdrawApi.as_view(), name="partner-application-withdraw"),
]
