"""Output serializers of the partners API (plain Serializers with unique names)."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.organizations.models import mask_account_number
from apps.partners.models import (
    ApplicationState,
    BusinessPartner,
    BusinessType,
    DocumentStatus,
    DocumentType,
    EntityClass,
    KycStatus,
    PartnerStatus,
    RiskCategory,
)

TAG = "partners"


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
    address_line1 = serializers.CharField()
    city = serializers.CharField()
    state_code = serializers.CharField()
    pincode = serializers.CharField()
    contact_name = serializers.CharField()
    contact_email = serializers.CharField()
    contact_phone = serializers.CharField()
    bank_account_holder = serializers.CharField()
    bank_account_number_masked = serializers.SerializerMethodField(
        help_text="`***` and the last four digits; never the whole number."
    )
    bank_ifsc = serializers.CharField()
    payouts_frozen = serializers.BooleanField(help_text="True while a bank change awaits approval.")
    master_partner_id = serializers.UUIDField(allow_null=True)
    corporate_group_id = serializers.UUIDField(allow_null=True)
    corporate_group_name = serializers.CharField(source="corporate_group.name", allow_null=True)
    status = serializers.ChoiceField(choices=PartnerStatus.choices)
    status_reason = serializers.CharField()
    status_changed_at = serializers.DateTimeField(allow_null=True)
    kyc_status = serializers.ChoiceField(choices=KycStatus.choices)
    kyc_expires_on = serializers.DateField(allow_null=True)
    risk_score = serializers.IntegerField()
    risk_category = serializers.ChoiceField(choices=RiskCategory.choices)
    credit_limit = serializers.DecimalField(max_digits=16, decimal_places=2)
    derived_capabilities = serializers.JSONField(help_text="What the verified documents allow.")
    capabilities_override = serializers.JSONField(
        allow_null=True, help_text="The back office's override, when there is one (it wins)."
    )
    capabilities_override_reason = serializers.CharField()
    trading_capabilities = serializers.JSONField(
        help_text='The effective capabilities: {"buy", "sell", "import", "export"} booleans.'
    )
    max_active_users = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_bank_account_number_masked(self, partner: BusinessPartner) -> str:
        return mask_account_number(partner.bank_account_number)


class BusinessPartnerDetailOutput(BusinessPartnerOutput):
    """One partner: the list's fields and its commodities of interest."""

    commodity_ids = serializers.SerializerMethodField(help_text="Ids of the commodities of interest.")

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_commodity_ids(self, partner: BusinessPartner) -> list[UUID]:
        return sorted((commodity.pk for commodity in partner.commodities.all()), key=str)
