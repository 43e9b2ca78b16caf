"""Output serializers of the partners API (plain Serializers with unique names)."""

from __future__ import annotations

from rest_framework import serializers

from apps.partners.models import (
    ApplicationState,
    BusinessType,
    DocumentStatus,
    DocumentType,
    EntityClass,
    KycStatus,
    PartnerStatus,
    RiskCategory,
)


class PartnerDocumentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    content_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    issued_on = serializers.DateField(allow_null=True)
    expires_on = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=DocumentStatus.choices)
    needs_manual_verification = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class OnboardingApplicationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=ApplicationState.choices)
    entity_class = serializers.ChoiceField(choices=EntityClass.choices)
    business_type = serializers.ChoiceField(choices=BusinessType.choices)
    service_type = serializers.CharField()
    legal_name = serializers.CharField()
    trade_name = serializers.CharField()
    country = serializers.CharField()
    pan = serializers.CharField()
    gstin = serializers.CharField()
    imports_or_exports = serializers.BooleanField()
    owns_lorries = serializers.BooleanField()
    address_line1 = serializers.CharField()
    city = serializers.CharField()
    state_code = serializers.CharField()
    pincode = serializers.CharField()
    contact_email = serializers.CharField()
    contact_phone = serializers.CharField()
    bank_ifsc = serializers.CharField()
    business_age_months = serializers.IntegerField(allow_null=True)
    gst_turnover = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    filing_compliance = serializers.CharField()
    has_quality_lab = serializers.BooleanField()
    has_own_transport = serializers.BooleanField()
    risk_score = serializers.IntegerField(allow_null=True)
    risk_category = serializers.CharField()
    route = serializers.CharField()
    info_request_message = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    partner_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OnboardingApplicationPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = OnboardingApplicationOutput(many=True)


class BusinessPartnerOutput(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    entity_class = serializers.ChoiceField(choices=EntityClass.choices)
    business_type = serializers.ChoiceField(choices=BusinessType.choices)
    service_type = serializers.CharField()
    legal_name = serializers.CharField()
    trade_name = serializers.CharField()
    country = serializers.CharField()
    pan = serializers.CharField()
    gstin = serializers.CharField()
    contact_email = serializers.CharField()
    contact_phone = serializers.CharField()
    status = serializers.ChoiceField(choices=PartnerStatus.choices)
    kyc_status = serializers.ChoiceField(choices=KycStatus.choices)
    kyc_expires_on = serializers.DateField(allow_null=True)
    risk_score = serializers.IntegerField()
    risk_category = serializers.ChoiceField(choices=RiskCategory.choices)
    credit_limit = serializers.DecimalField(max_digits=16, decimal_places=2)
    trading_capabilities = serializers.JSONField()
    created_at = serializers.DateTimeField()
