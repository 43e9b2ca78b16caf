"""Back office for OTP login artefacts: the SMS messages sent and the codes issued."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.accounts.admin.common import _is_platform_admin
from apps.accounts.models import OtpCode, SmsMessage


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    """The dev inbox: what the offline SMS backend would have sent (OTP codes for demo logins)."""

    list_display = ("created_at", "to", "body", "backend")
    search_fields = ("to",)
    ordering = ("-created_at",)
    readonly_fields = ("id", "to", "body", "backend", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        if _is_platform_admin(request.user):
            return qs
        # Organization staff read what was sent for their own organization only (fixed on each
        # message when it was sent, not derived from the number): another tenant's sign-in codes
        # would let them sign in as that tenant's partners.
        organization_id = getattr(request.user, "organization_id", None)
        if organization_id is None:
            return qs.none()
        return qs.filter(organization_id=organization_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OtpCode)
class OtpCodeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "masked_mobile", "purpose", "attempts", "expires_at", "consumed_at")
    list_filter = ("purpose",)
    ordering = ("-created_at",)
    exclude = ("code_hash",)
    readonly_fields = (
        "id",
        "mobile",
        "purpose",
        "attempts",
        "expires_at",
        "consumed_at",
        "organization",
        "created_at",
        "updated_at",
    )

    @admin.display(description="Mobile")
    def masked_mobile(self, obj: OtpCode) -> str:
        return f"…{obj.mobile[-4:]}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
