"""Commission structures. Every change goes through the services; nothing is deleted here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.accounts.requests import request_user
from apps.commodities.admin.common import (
    ServiceAdmin,
)
from apps.commodities.models import (
    CommissionStructure,
)
from apps.commodities.services.commissions import COMMISSION_UPDATABLE, commission_create, commission_update


@admin.register(CommissionStructure)
class CommissionStructureAdmin(ServiceAdmin):
    list_display = ("commodity", "trade_type", "name", "basis", "rate", "unit", "applies_to", "is_active")
    list_filter = ("commodity", "trade_type", "basis", "applies_to", "is_active")
    list_select_related = ("commodity", "trade_type", "unit")
    search_fields = ("name", "commodity__code", "trade_type__code")
    readonly_fields = ("id", "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (*self.readonly_fields, "commodity", "trade_type") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: CommissionStructure, form: Any, change: bool) -> None:
        if not change:
            created = commission_create(
                actor=request_user(request),
                commodity_id=obj.commodity_id,
                trade_type=obj.trade_type,
                basis=obj.basis,
                rate=obj.rate,
                unit=obj.unit,
                applies_to=obj.applies_to,
                name=obj.name,
                is_active=obj.is_active,
            )
            obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
            return
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in COMMISSION_UPDATABLE}
        commission_update(actor=request_user(request), commodity_id=obj.commodity_id, commission_id=obj.pk, **changes)
