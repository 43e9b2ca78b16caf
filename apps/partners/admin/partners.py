"""Back office of partners after approval: the partner record with its users and branches.

Fields are read-only here: every change goes through a service (status, capabilities, KYC
renewal, amendments), each behind its own button.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_object_actions import DjangoObjectActions, action
from import_export.admin import ExportActionMixin
from import_export.formats.base_formats import CSV, XLSX

from apps.accounts.models import User
from apps.core.admin import BigListAdminMixin, ServiceActionsMixin
from apps.core.formatting import choice_badge, indian_number, key_value_table
from apps.partners.admin.groups import GROUP_ACTIONS, GroupActionsMixin
from apps.partners.admin.kyc import KYC_ACTIONS, KycActionsMixin, PartnerDocumentInline
from apps.partners.models import Branch, BusinessPartner, DocumentStatus, PartnerMembership, PartnerStatus, Vehicle
from apps.partners.resources import PartnerResource
from apps.partners.selectors import partners_visible_to
from apps.partners.services.status import REASON_MAX_LENGTH, partner_change_status

KYC_WARNING_DAYS = 30


class StatusReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, max_length=REASON_MAX_LENGTH)


class MembershipInline(admin.TabularInline):
    model = PartnerMembership
    extra = 0
    can_delete = False
    fields = ("user", "role", "is_active")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VehicleInline(admin.TabularInline):
    """A transporter's vehicles, read-only (changes go through services.vehicles)."""

    model = Vehicle
    extra = 0
    can_delete = False
    fields = (
        "registration_number",
        "vehicle_type",
        "capacity_kg",
        "insurance_valid_until",
        "fitness_valid_until",
        "is_active",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BranchInline(admin.TabularInline):
    model = Branch
    extra = 0
    can_delete = False
    fields = ("code", "name", "branch_type", "state_code", "gstin", "is_default_ship_to", "is_default_ship_from")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class KycExpiryFilter(admin.SimpleListFilter):
    title = "KYC expiry"
    parameter_name = "kyc"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("expiring", f"Active, expiring within {KYC_WARNING_DAYS} days"), ("lapsed", "Expired")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[BusinessPartner]) -> Any:
        today = timezone.localdate()
        if self.value() == "expiring":
            return queryset.filter(
                status=PartnerStatus.ACTIVE, kyc_expires_on__lte=today + timedelta(days=KYC_WARNING_DAYS)
            )
        if self.value() == "lapsed":
            return queryset.filter(kyc_expires_on__lt=today)
        return queryset


# Which status buttons a partner's state offers (SPEC section 6).
STATUS_ACTIONS = {
    PartnerStatus.ACTIVE: ("suspend", "block"),
    PartnerStatus.SUSPENDED: ("block", "reactivate"),
    PartnerStatus.BLOCKED: ("reactivate",),
}
CHANGE_STATUS = "partners.change_partner_status"
ACTION_PERMISSIONS = {
    "override_capabilities": "partners.override_capabilities",
    "review_partner_document": "partners.renew_kyc",
    "renew_kyc": "partners.renew_kyc",
    "set_master_partner": "partners.change_businesspartner",
    "set_corporate_group": "partners.change_businesspartner",
}


@admin.register(BusinessPartner)
class BusinessPartnerAdmin(
    ExportActionMixin,
    GroupActionsMixin,
    KycActionsMixin,
    BigListAdminMixin,
    ServiceActionsMixin,
    DjangoObjectActions,
    admin.ModelAdmin,
):
    resource_classes = [PartnerResource]
    formats = [CSV, XLSX]
    show_change_form_export = False
    list_display = (
        "code",
        "legal_name",
        "status_badge",
        "kyc_badge",
        "kyc_expires_on",
        "risk_category",
        "credit_limit_inr",
    )
    list_display_links = ("code", "legal_name")
    list_page_fields = (
        "code",
        "legal_name",
        "status",
        "kyc_status",
        "kyc_expires_on",
        "risk_category",
        "credit_limit",
    )
    list_filter = ("status", "kyc_status", KycExpiryFilter, "entity_class", "risk_category")
    search_fields = ("code", "legal_name", "trade_name", "pan", "gstin")
    ordering = ("code",)  # with the pk Django adds: the (organization, code) unique index, then a sort of ties
    inlines = [MembershipInline, BranchInline, VehicleInline, PartnerDocumentInline]
    readonly_fields = [field.name for field in BusinessPartner._meta.fields] + [
        "status_badge",
        "kyc_badge",
        "credit_limit_inr",
        "capabilities_table",
    ]
    change_form_template = "admin/partners/businesspartner/change_form.html"
    change_actions: tuple[str, ...] = ("suspend", "block", "reactivate", *KYC_ACTIONS, *GROUP_ACTIONS)
    fieldsets = (
        (
            "Partner",
            {
                "fields": (
                    ("code", "legal_name", "trade_name"),
                    ("entity_class", "business_type", "service_type"),
                    ("pan", "gstin", "registration_date"),
                    ("master_partner", "corporate_group"),
                )
            },
        ),
        (
            "Status",
            {
                "fields": (
                    ("status_badge", "status_reason", "status_changed_at", "status_changed_by"),
                    ("kyc_badge", "kyc_verified_at", "kyc_expires_on"),
                    ("risk_score", "risk_category", "credit_limit_inr"),
                    "capabilities_table",
                )
            },
        ),
        (
            "Address and contact",
            {
                "fields": (
                    "address_line1",
                    ("city", "state_code", "pincode"),
                    "location",
                    ("contact_name", "contact_email", "contact_phone"),
                )
            },
        ),
        ("Bank", {"fields": (("bank_account_holder", "bank_account_number", "bank_ifsc"), "payouts_frozen")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        extra = [f for f in self.get_readonly_fields(request, obj) if f in ("insiders",)]
        fieldsets = list(self.fieldsets)
        if extra:
            fieldsets.append(("Group", {"fields": tuple(extra)}))
        return fieldsets

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: BusinessPartner) -> str:
        return choice_badge(obj, "status")

    @admin.display(description="KYC", ordering="kyc_status")
    def kyc_badge(self, obj: BusinessPartner) -> str:
        return choice_badge(obj, "kyc_status")

    @admin.display(description="Credit limit (Rs)", ordering="credit_limit")
    def credit_limit_inr(self, obj: BusinessPartner) -> str:
        return indian_number(obj.credit_limit)

    @admin.display(description="Trading capabilities")
    def capabilities_table(self, obj: BusinessPartner) -> str:
        capabilities = obj.trading_capabilities or {}
        rows = [(name.capitalize(), "yes" if allowed else "no") for name, allowed in sorted(capabilities.items())]
        if obj.capabilities_override is not None:
            rows.append(("Override", obj.capabilities_override_reason or "set"))
        return key_value_table(rows)

    def allowed_actions(self, user: User, obj: BusinessPartner) -> tuple[list[str], list[str]]:
        notes: list[str] = []
        actions: list[str] = []
        if user.has_perm(CHANGE_STATUS):
            actions += STATUS_ACTIONS.get(PartnerStatus(obj.status), ())
        else:
            notes.append("Suspend / block / reactivate: needs the partners.change_partner_status capability.")
        for name in (*KYC_ACTIONS, *GROUP_ACTIONS):
            perm = ACTION_PERMISSIONS.get(name)
            if perm is None or user.has_perm(perm):
                actions.append(name)
        if "review_partner_document" in actions and not obj.documents.filter(status=DocumentStatus.PENDING).exists():
            actions.remove("review_partner_document")
        return actions, notes

    def get_change_actions(self, request: HttpRequest, object_id: str, form_url: str) -> Any:
        user = request.user
        assert isinstance(user, User)
        obj = self.get_object(request, object_id)
        if obj is None:
            return []
        return self.allowed_actions(user, obj)[0]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        user = request.user
        assert isinstance(user, User)
        context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None:
            context["who_may_act"] = self.allowed_actions(user, obj)[1]
        return super().change_view(request, object_id, form_url, extra_context=context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[BusinessPartner]:
        user = request.user
        assert isinstance(user, User)
        return partners_visible_to(user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- status (SPEC section 6: back office only, with a reason) -----------------------------

    def _change_status(
        self, request: HttpRequest, obj: BusinessPartner, status: str, title: str, label: str, done: str
    ) -> HttpResponse | None:
        form = StatusReasonForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                done,
                partner_change_status,
                partner_id=obj.pk,
                status=status,
                reason=form.cleaned_data["reason"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, title, label)

    @action(button_type="a", label="Suspend", description="Suspend: no new postings or trades (needs a reason)")
    def suspend(self, request: HttpRequest, obj: BusinessPartner) -> HttpResponse | None:
        return self._change_status(
            request, obj, PartnerStatus.SUSPENDED, f"Suspend {obj.code}", "Suspend", "Partner suspended."
        )

    @action(button_type="a", label="Block", description="Block: the partner's users can do nothing (needs a reason)")
    def block(self, request: HttpRequest, obj: BusinessPartner) -> HttpResponse | None:
        return self._change_status(
            request, obj, PartnerStatus.BLOCKED, f"Block {obj.code}", "Block", "Partner blocked."
        )

    @action(button_type="a", label="Reactivate", description="Make a suspended or blocked partner active again")
    def reactivate(self, request: HttpRequest, obj: BusinessPartner) -> HttpResponse | None:
        return self._change_status(
            request, obj, PartnerStatus.ACTIVE, f"Reactivate {obj.code}", "Reactivate", "Partner reactivated."
        )
