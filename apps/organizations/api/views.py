"""Organizations API: the profile and its master data, one view class per operation.

Every operation under `/organizations/{id}/` first passes `selectors.organization_get`: 404 when
the caller may not see the organization (staff of another one, partner users), 403 without the
permission the operation needs. Operations sharing a path are composed into one routing class at
the end of this module. GST registrations and bank accounts are never deleted: PATCH
`is_active=false` deactivates them (invoices and payments will point at them).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.pagination import CappedCursorPagination
from apps.organizations import selectors, services
from apps.organizations.api.serializers import (
    BankAccountOutput,
    BankAccountPageOutput,
    DocumentSeriesOutput,
    DocumentSeriesPageOutput,
    FinancialYearOutput,
    FinancialYearPageOutput,
    GstRegistrationOutput,
    GstRegistrationPageOutput,
    OrganizationPageOutput,
    OrganizationProfileOutput,
)
from apps.organizations.models import DocumentType
from apps.organizations.permissions import (
    ADD,
    BANK_ACCOUNT,
    CHANGE,
    DOCUMENT_SERIES,
    FINANCIAL_YEAR,
    GST_REGISTRATION,
    ORGANIZATION,
)

TAG = "organizations"

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The `next` or `previous` cursor of an earlier page."),
    OpenApiParameter("page_size", int, description="Rows per page (default 50, capped at 200)."),
]


class OrganizationsApi(APIView):
    permission_classes = [IsAuthenticated]

    def paginated(self, request: Request, queryset: Any, output: type[serializers.Serializer]) -> Response:
        paginator = CappedCursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(output(page, many=True).data)

    def authorize(self, request: Request, organization_id: UUID, action: str, model: str) -> None:
        selectors.organization_get(user=request.user, organization_id=organization_id, action=action, model=model)


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- organizations --------------------------------------------------------------------------------


class OrganizationListApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_list",
        tags=[TAG],
        parameters=PAGE_PARAMETERS,
        responses={200: OrganizationPageOutput},
        summary="List organizations (platform admins: all; staff: their own)",
    )
    def get(self, request: Request) -> Response:
        return self.paginated(request, selectors.organizations_visible_to(request.user), OrganizationProfileOutput)


class OrganizationRetrieveApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_retrieve",
        tags=[TAG],
        responses={200: OrganizationProfileOutput},
        summary="Read an organization's profile",
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        organization = selectors.organization_get(user=request.user, organization_id=organization_id)
        return Response(OrganizationProfileOutput(organization).data)


class OrganizationUpdateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OrganizationUpdateInput"

        name = serializers.CharField(max_length=200, required=False)
        legal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
        pan = serializers.CharField(max_length=10, required=False, allow_blank=True, help_text="e.g. AAPFU0939F")
        cin = serializers.CharField(max_length=21, required=False, allow_blank=True)
        address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
        address_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
        city = serializers.CharField(max_length=100, required=False, allow_blank=True)
        state = serializers.CharField(
            max_length=2, required=False, allow_blank=True, help_text="Two-letter state code, e.g. GJ."
        )
        pincode = serializers.CharField(max_length=6, required=False, allow_blank=True)
        contact_email = serializers.CharField(max_length=254, required=False, allow_blank=True)
        contact_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)

    @extend_schema(
        operation_id="organizations_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: OrganizationProfileOutput},
        summary="Change an organization's profile (names, PAN, CIN, address, contact)",
    )
    def patch(self, request: Request, organization_id: UUID) -> Response:
        self.authorize(request, organization_id, CHANGE, ORGANIZATION)
        changes = _validated(OrganizationUpdateApi.InputSerializer, request.data)
        organization = services.organization_update(organization_id=organization_id, actor=request.user, **changes)
        return Response(OrganizationProfileOutput(organization).data)


# --- GST registrations ----------------------------------------------------------------------------


class GstRegistrationListApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_gst_registrations_list",
        tags=[TAG],
        parameters=PAGE_PARAMETERS,
        responses={200: GstRegistrationPageOutput},
        summary="List the organization's GST registrations (newest first)",
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        queryset = selectors.gst_registrations_of(user=request.user, organization_id=organization_id)
        return self.paginated(request, queryset, GstRegistrationOutput)


class GstRegistrationCreateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GstRegistrationCreateInput"

        gstin = serializers.CharField(
            max_length=20, help_text="15 characters; its PAN part must be the organization's."
        )
        is_primary = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="organizations_gst_registrations_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: GstRegistrationOutput},
        summary="Register a GSTIN (the first is primary; is_primary moves the flag)",
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        self.authorize(request, organization_id, ADD, GST_REGISTRATION)
        data = _validated(GstRegistrationCreateApi.InputSerializer, request.data)
        registration = services.gst_registration_create(organization_id=organization_id, actor=request.user, **data)
        return Response(GstRegistrationOutput(registration).data, status=201)


class GstRegistrationRetrieveApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_gst_registrations_retrieve",
        tags=[TAG],
        responses={200: GstRegistrationOutput},
        summary="Read a GST registration",
    )
    def get(self, request: Request, organization_id: UUID, gst_registration_id: UUID) -> Response:
        registration = selectors.gst_registration_get(
            user=request.user, organization_id=organization_id, gst_registration_id=gst_registration_id
        )
        return Response(GstRegistrationOutput(registration).data)


class GstRegistrationUpdateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GstRegistrationUpdateInput"

        is_primary = serializers.BooleanField(required=False, help_text="True makes this the primary registration.")
        is_active = serializers.BooleanField(required=False, help_text="False deactivates it (never deleted).")

    @extend_schema(
        operation_id="organizations_gst_registrations_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: GstRegistrationOutput},
        summary="Make a GST registration primary, or (de)activate it",
    )
    def patch(self, request: Request, organization_id: UUID, gst_registration_id: UUID) -> Response:
        self.authorize(request, organization_id, CHANGE, GST_REGISTRATION)
        changes = _validated(GstRegistrationUpdateApi.InputSerializer, request.data)
        registration = services.gst_registration_update(
            organization_id=organization_id, gst_registration_id=gst_registration_id, actor=request.user, **changes
        )
        return Response(GstRegistrationOutput(registration).data)


# --- bank accounts --------------------------------------------------------------------------------


class BankAccountListApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_bank_accounts_list",
        tags=[TAG],
        parameters=PAGE_PARAMETERS,
        responses={200: BankAccountPageOutput},
        summary="List the organization's bank accounts, numbers masked (newest first)",
    )
    def get(self, request: Request, organization_id: UUID) -> Response:
        queryset = selectors.bank_accounts_of(user=request.user, organization_id=organization_id)
        return self.paginated(request, queryset, BankAccountOutput)


class BankAccountCreateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "BankAccountCreateInput"

        holder_name = serializers.CharField(max_length=200)
        bank_name = serializers.CharField(max_length=200)
        branch = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        account_number = serializers.CharField(
            max_length=30, write_only=True, help_text="9 to 18 digits; answered masked, never whole."
        )
        ifsc = serializers.CharField(max_length=11, help_text="e.g. SBIN0001234")
        is_default = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="organizations_bank_accounts_create",
        tags=[TAG],
        request=InputSerializer,
        responses={201: BankAccountOutput},
        summary="Add a bank account (the first is the default; is_default moves the flag)",
    )
    def post(self, request: Request, organization_id: UUID) -> Response:
        self.authorize(request, organization_id, ADD, BANK_ACCOUNT)
        data = _validated(BankAccountCreateApi.InputSerializer, request.data)
        account = services.bank_account_create(organization_id=organization_id, actor=request.user, **data)
        return Response(BankAccountOutput(account).data, status=201)


class BankAccountRetrieveApi(OrganizationsApi):
    @extend_schema(
        operation_id="organizations_bank_accounts_retrieve",
        tags=[TAG],
        responses={200: BankAccountOutput},
        summary="Read a bank account (number masked)",
    )
    def get(self, request: Request, organization_id: UUID, bank_account_id: UUID) -> Response:
        account = selectors.bank_account_get(
            user=request.user, organization_id=organization_id, bank_account_id=bank_account_id
        )
        return Response(BankAccountOutput(account).data)


class BankAccountUpdateApi(OrganizationsApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "BankAccountUpdateInput"

        holder_name = serializers.CharField(max_length=200, required=False)
        bank_name = serializers.CharField(max_length=200, required=False)
        branch = serializers.CharField(max_length=200, required=False, allow_blank=True)
        ifsc = serializers.CharField(max_length=11, required=False)
        is_default = serializers.BooleanField(required=False, help_text="True makes this the default account.")
        is_active = serializers.BooleanField(required=False, help_text="False deactivates it (never deleted).")

    @extend_schema(
        operation_id="organizations_bank_accounts_partial_update",
        tags=[TAG],
        request=InputSerializer,
        responses={200: BankAccountOutput},
        summary="Change a bank account's holder, bank, branch or IFSC, make it the default, or (de)activate it",
    )
    def patch(self, request: Request, organization_id: UUID, bank_account_id: UUID) -> Response:
        self.authorize(request, organization_id, CHANGE, BANK_ACCOUNT)
        changes = _validated(BankAccountUpdateApi.InputSerializer, request.data)
        account = services.bank_account_update(
            organization_id=organization_id, bank_account_id=bank_account_id, actor=request.user, **changes
        )
        return Response(BankAccountOutput(account).data)


# --- financial years ------------------------------------------------------------------------------


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
        return self.paginated(request, queryset, FinancialYearOutput)


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
        data = _validated(FinancialYearCreateApi.InputSerializer, request.data)
        year = services.financial_year_create(organization_id=organization_id, actor=request.user, **data)
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
        changes = _validated(FinancialYearUpdateApi.InputSerializer, request.data)
        year = services.financial_year_update(
            organization_id=organization_id, financial_year_id=financial_year_id, actor=request.user, **changes
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
        year = services.financial_year_activate(
            organization_id=organization_id, financial_year_id=financial_year_id, actor=request.user
        )
        return Response(FinancialYearOutput(year).data)


# --- document series ------------------------------------------------------------------------------


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
        filters = _validated(DocumentSeriesListApi.FilterSerializer, request.query_params)
        queryset = selectors.document_series_of(
            user=request.user,
            organization_id=organization_id,
            financial_year_id=filters.get("financial_year"),
            doc_type=filters.get("doc_type"),
        )
        return self.paginated(request, queryset, DocumentSeriesOutput)


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
        data = _validated(DocumentSeriesCreateApi.InputSerializer, request.data)
        series = services.document_series_create(
            organization_id=organization_id,
            financial_year_id=data["financial_year"],
            doc_type=data["doc_type"],
            prefix=data["prefix"],
            actor=request.user,
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
        data = _validated(DocumentSeriesUpdateApi.InputSerializer, request.data)
        series = services.document_series_update(
            organization_id=organization_id,
            document_series_id=document_series_id,
            prefix=data["prefix"],
            actor=request.user,
        )
        return Response(DocumentSeriesOutput(series).data)


# Routing classes for paths that carry more than one operation.


class OrganizationDetailApi(OrganizationRetrieveApi, OrganizationUpdateApi):
    pass  # GET reads, PATCH updates (no docstring: the schema takes each operation's own)


class GstRegistrationCollectionApi(GstRegistrationListApi, GstRegistrationCreateApi):
    pass


class GstRegistrationDetailApi(GstRegistrationRetrieveApi, GstRegistrationUpdateApi):
    pass


class BankAccountCollectionApi(BankAccountListApi, BankAccountCreateApi):
    pass


class BankAccountDetailApi(BankAccountRetrieveApi, BankAccountUpdateApi):
    pass


class FinancialYearCollectionApi(FinancialYearListApi, FinancialYearCreateApi):
    pass


class FinancialYearDetailApi(FinancialYearRetrieveApi, FinancialYearUpdateApi):
    pass


class DocumentSeriesCollectionApi(DocumentSeriesListApi, DocumentSeriesCreateApi):
    pass


class DocumentSeriesDetailApi(DocumentSeriesRetrieveApi, DocumentSeriesUpdateApi):
    pass
