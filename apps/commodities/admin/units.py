"""Units of measure. Every change goes through the services; nothing is deleted here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.accounts.requests import request_user
from apps.commodities.admin.common import (
    ServiceAdmin,
    StableCodeForm,
)
from apps.commodities.models import (
    Unit,
)
from apps.commodities.services.units import UNIT_UPDATABLE, unit_create, unit_update


@admin.register(Unit)
class UnitAdmin(ServiceAdmin):
    form = StableCodeForm
    list_display = ("code", "name", "factor_to_kg", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    readonly_fields = ("id", "created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Unit, form: Any, change: bool) -> None:
        if not change:
            created = unit_create(
                actor=request_user(request),
                code=obj.code,
                name=obj.name,
                factor_to_kg=obj.factor_to_kg,
                description=obj.description,
                is_active=obj.is_active,
            )
            obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
            return
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in UNIT_UPDATABLE}
        unit_update(actor=request_user(request), unit_id=obj.pk, **changes)
