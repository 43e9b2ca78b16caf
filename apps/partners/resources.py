"""Exports of partners and onboarding applications (django-import-export, export only: both
change through services). Bank account numbers are left out."""

from __future__ import annotations

from typing import Any

from import_export import fields, resources

from apps.partners.models import BusinessPartner, OnboardingApplication


class PartnerResource(resources.ModelResource):
    status_label = fields.Field(column_name="status")
    kyc_label = fields.Field(column_name="KYC status")

    class Meta:
        model = BusinessPartner
        fields = (
            "code",
            "legal_name",
            "trade_name",
            "entity_class",
            "business_type",
            "pan",
            "gstin",
            "city",
            "state_code",
            "status_label",
            "kyc_label",
            "kyc_expires_on",
            "risk_category",
            "credit_limit",
        )
        export_order = fields

    def dehydrate_status_label(self, obj: Any) -> str:
        return str(obj.get_status_display())

    def dehydrate_kyc_label(self, obj: Any) -> str:
        return str(obj.get_kyc_status_display())


class ApplicationResource(resources.ModelResource):
    state_label = fields.Field(column_name="state")
    assigned = fields.Field(column_name="assigned to")

    class Meta:
        model = OnboardingApplication
        fields = (
            "legal_name",
            "trade_name",
            "entity_class",
            "pan",
            "gstin",
            "city",
            "state_code",
            "state_label",
            "route",
            "risk_score",
            "risk_category",
            "assigned",
            "submitted_at",
            "decided_at",
        )
        export_order = fields

    def dehydrate_state_label(self, obj: Any) -> str:
        return str(obj.get_state_display())

    def dehydrate_assigned(self, obj: Any) -> str:
        user = obj.assigned_to
        return (user.full_name or user.email or "") if user else ""
