"""Output shapes of the organizations API. Plain serializers with names unique in the schema.

A bank account's number is never an output: only `account_number_masked` (`***` and the last four).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.organizations.models import DocumentSeries, DocumentType, format_document_number


class OrganizationProfileOutput(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    legal_name = serializers.CharField()
    pan = serializers.CharField()
    cin = serializers.CharField()
    base_currency = serializers.CharField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField(help_text="Two-letter state code, e.g. GJ; blank when not recorded.")
    pincode = serializers.CharField()
    contact_email = serializers.CharField()
    contact_phone = serializers.CharField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrganizationPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = OrganizationProfileOutput(many=True)


class GstRegistrationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    organization_id = serializers.UUIDField()
    gstin = serializers.CharField()
    state = serializers.CharField(help_text="Two-letter state code, from the GSTIN's first two digits.")
    is_primary = serializers.BooleanField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class GstRegistrationPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = GstRegistrationOutput(many=True)


class BankAccountOutput(serializers.Serializer):
    id = serializers.UUIDField()
    organization_id = serializers.UUIDField()
    holder_name = serializers.CharField()
    bank_name = serializers.CharField()
    branch = serializers.CharField()
    account_number_masked = serializers.CharField(help_text="`***` and the last four digits; never the whole number.")
    ifsc = serializers.CharField()
    is_default = serializers.BooleanField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class BankAccountPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = BankAccountOutput(many=True)


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
