"""Back office of partners after approval: the partner record with its users and branches.

Fields are read-only here: every change goes through a service (status, capabilities, KYC
renewal, amendments), each behind its own button.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django_object_actions import DjangoObjectActions

from apps.accounts.models import User
from apps.partners.admin.base import ServiceActionsMixin
from apps.partners.models import Branch, BusinessPartner, PartnerMembership
from apps.partners.selectors import partners_visible_to


class MembershipInline(admin.TabularInline):
    model = PartnerMembership
    extra = 0
    can_delete = False
    fields = ("user", "role", "is_active")
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
class BusinessPartnerAdmin(ServiceActionsMixin, DjangoObjectActions, admin.ModelAdmin):
    list_display = ("code", "legal_name", "status", "kyc_status", "kyc_expires_on", "risk_category")
    list_filter = ("status", "kyc_status", "entity_class", "risk_category")
    search_fields = ("code", "legal_name", "trade_name", "pan", "gstin")
    inlines = [MembershipInline, BranchInline]
    readonly_fields = [field.name for field in BusinessPartner._meta.fields]
    change_actions: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[BusinessPartner]:
        user = request.user
        assert isinstance(user, User)
        return partners_visible_to(user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
