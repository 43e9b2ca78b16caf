"""Back office of partners after approval: the partner record with its users and branches.

Fields are read-only here: every change goes through a service (status, capabilities, KYC
renewal, amendments), each behind its own button.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django_object_actions import DjangoObjectActions, action

from apps.accounts.models import User
from apps.partners.admin.base import ServiceActionsMixin
from apps.partners.admin.groups import GROUP_ACTIONS, GroupActionsMixin
from apps.partners.admin.kyc import KYC_ACTIONS, KycActionsMixin, PartnerDocumentInline
from apps.partners.models import Branch, BusinessPartner, PartnerMembership, PartnerStatus, Vehicle
from apps.partners.selectors import partners_visible_to
from apps.partners.services.status import REASON_MAX_LENGTH, partner_change_status


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


@admin.register(BusinessPartner)
class BusinessPartnerAdmin(
    GroupActionsMixin, KycActionsMixin, ServiceActionsMixin, DjangoObjectActions, admin.ModelAdmin
):
    list_display = ("code", "legal_name", "status", "kyc_status", "kyc_expires_on", "risk_category")
    list_filter = ("status", "kyc_status", "entity_class", "risk_category")
    search_fields = ("code", "legal_name", "trade_name", "pan", "gstin")
    show_full_result_count = False  # no unfiltered COUNT(*) next to a search (issue 15)
    inlines = [MembershipInline, BranchInline, VehicleInline, PartnerDocumentInline]
    readonly_fields = [field.name for field in BusinessPartner._meta.fields]
    change_actions: tuple[str, ...] = ("suspend", "block", "reactivate", *KYC_ACTIONS, *GROUP_ACTIONS)

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
        if request.method == "POST" and form.is_valid():
            self.run_service(
                request,
                done,
                partner_change_status,
                partner_id=obj.pk,
                status=status,
                reason=form.cleaned_data["reason"],
            )
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
