"""Commodities: search, filters, inline varieties and parameters, CSV/Excel import and export. Every change goes through the services; nothing is deleted here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.requests import request_user
from apps.commodities.admin.common import (
    MasterImportExportAdmin,
    ParameterForm,
    StableCodeForm,
)
from apps.commodities.models import (
    Commodity,
    QualityParameter,
    Variety,
)
from apps.commodities.resources import CommodityResource
from apps.commodities.services.commodities import COMMODITY_UPDATABLE, commodity_create, commodity_update
from apps.commodities.services.parameters import PARAMETER_UPDATABLE, parameter_create, parameter_update
from apps.commodities.services.varieties import VARIETY_UPDATABLE, variety_create, variety_update


class VarietyInline(admin.TabularInline):
    model = Variety
    form = StableCodeForm
    fields = ("code", "name", "description", "is_active")
    extra = 0
    can_delete = False


class QualityParameterInline(admin.StackedInline):
    model = QualityParameter
    form = ParameterForm
    fields = (
        ("code", "name", "kind", "order"),
        ("unit", "min_value", "max_value", "decimals"),
        "allowed_values",
        ("is_mandatory", "is_active"),
        "description",
    )
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[QualityParameter]:
        return super().get_queryset(request).order_by("order", "code")


@admin.register(Commodity)
class CommodityAdmin(MasterImportExportAdmin):
    form = StableCodeForm
    resource_classes = [CommodityResource]
    list_display = ("code", "name", "category", "hsn_code", "gst_rate", "trade_unit", "rate_unit", "is_active")
    list_filter = ("category", "is_active")
    list_select_related = ("trade_unit", "rate_unit")
    search_fields = ("code", "name", "hsn_code", "varieties__name")
    readonly_fields = ("id", "created_at", "updated_at")
    inlines = [VarietyInline, QualityParameterInline]

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        queryset, _duplicates = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False

    def save_model(self, request: HttpRequest, obj: Commodity, form: Any, change: bool) -> None:
        if not change:
            created = commodity_create(
                actor=request_user(request),
                code=obj.code,
                name=obj.name,
                category=obj.category,
                hsn_code=obj.hsn_code,
                gst_rate=obj.gst_rate,
                base_unit=obj.base_unit,
                trade_unit=obj.trade_unit,
                rate_unit=obj.rate_unit,
                description=obj.description,
                is_active=obj.is_active,
            )
            obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
            return
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in COMMODITY_UPDATABLE}
        commodity_update(actor=request_user(request), commodity_id=obj.pk, **changes)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        commodity_id = form.instance.pk
        # What the admin's change message and log entry read (formset.save() would set them).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not hasattr(inline_form, "cleaned_data"):
                continue
            data, instance = inline_form.cleaned_data, inline_form.instance
            if formset.model is Variety:
                if instance._state.adding:
                    keys: tuple[str, ...] = ("code", "name", "description", "is_active")
                    created = variety_create(
                        actor=request_user(request), commodity_id=commodity_id, **{k: data[k] for k in keys}
                    )
                    formset.new_objects.append(created)
                else:
                    changes = {k: data[k] for k in inline_form.changed_data if k in VARIETY_UPDATABLE}
                    updated = variety_update(
                        actor=request_user(request),
                        commodity_id=commodity_id,
                        variety_id=instance.pk,
                        **changes,
                    )
                    formset.changed_objects.append((updated, list(changes)))
            elif formset.model is QualityParameter:
                if instance._state.adding:
                    keys = ("code", "name", "kind", *sorted(PARAMETER_UPDATABLE - {"name"}))
                    parameter = parameter_create(
                        actor=request_user(request),
                        commodity_id=commodity_id,
                        **{k: data[k] for k in keys if k in data},
                    )
                    formset.new_objects.append(parameter)
                else:
                    changes = {k: data[k] for k in inline_form.changed_data if k in PARAMETER_UPDATABLE}
                    parameter = parameter_update(
                        actor=request_user(request),
                        commodity_id=commodity_id,
                        parameter_id=instance.pk,
                        **changes,
                    )
                    formset.changed_objects.append((parameter, list(changes)))
