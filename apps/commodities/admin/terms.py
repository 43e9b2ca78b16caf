"""Trade terms: one screen for every kind, CSV/Excel import and export. Every change goes through the services; nothing is deleted here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.accounts.requests import request_user
from apps.commodities.admin.common import (
    MasterImportExportAdmin,
    StableCodeForm,
)
from apps.commodities.models import (
    TradeTerm,
)
from apps.commodities.resources import TradeTermResource
from apps.commodities.services.terms import TERM_UPDATABLE, term_create, term_update


class TradeTermForm(StableCodeForm):
    immutable = ("code", "kind")


@admin.register(TradeTerm)
class TradeTermAdmin(MasterImportExportAdmin):
    form = TradeTermForm
    resource_classes = [TradeTermResource]
    list_display = ("kind", "code", "name", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "description")
    readonly_fields = ("id", "created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: TradeTerm, form: Any, change: bool) -> None:
        if not change:
            typed = {name: getattr(obj, name) for name in TERM_UPDATABLE}
            created = term_create(actor=request_user(request), kind=obj.kind, code=obj.code, **typed)
            obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
            return
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in TERM_UPDATABLE}
        term_update(actor=request_user(request), term_id=obj.pk, **changes)
