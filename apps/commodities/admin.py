"""Back-office screens of the global masters. Every mutation goes through the services (so it is
validated, permission-checked and emits its event); a refusal is reported with message_user.

- Commodities: search, filters, inline varieties and parameters, CSV/Excel import and export.
- Schedules: inline rules, editable only while the version is a draft; an action activates.
- Terms: one screen for every kind, CSV/Excel import and export. Commissions and units.

Nothing is deleted here: masters are deactivated (rows in use are referenced by trades).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX

from apps.commodities import services
from apps.commodities.models import (
    CommissionStructure,
    Commodity,
    QualityParameter,
    QualitySchedule,
    ScheduleRule,
    TradeTerm,
    Unit,
    Variety,
)
from apps.commodities.resources import CommodityResource, TradeTermResource
from apps.core.errors import DomainError

# Excel needs openpyxl (django-import-export[xlsx]); a format whose library is missing is left out
# (import-export would fail on it rather than hide it).
IMPORT_EXPORT_FORMATS = [f for f in (CSV, XLSX) if f.is_available()]


class ServiceAdmin(admin.ModelAdmin):
    """Reports a service's refusal on the form's page instead of failing the request."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            details = "; ".join(str(e["detail"]) for e in error.errors) or error.detail
            self.message_user(request, f"Not saved: {details}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class MasterImportExportAdmin(ImportExportModelAdmin, ServiceAdmin):
    import_formats = IMPORT_EXPORT_FORMATS
    export_formats = IMPORT_EXPORT_FORMATS

    def has_import_permission(self, request: HttpRequest) -> bool:
        # An import creates and changes rows: it needs both permissions (import-export's
        # default would let anyone who can open the screen import).
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        # The confirmed import also rolls back entirely if any row turns out invalid.
        data_kwargs: dict[str, Any] = super().get_import_data_kwargs(**kwargs)
        data_kwargs["rollback_on_validation_errors"] = True
        return data_kwargs


class StableCodeForm(forms.ModelForm):
    """Existing rows show their code (and kind) but cannot change it: other rows refer to it."""

    immutable: tuple[str, ...] = ("code",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            for name in self.immutable:
                if name in self.fields:
                    self.fields[name].disabled = True


class ParameterForm(StableCodeForm):
    immutable = ("code", "kind")


# --- units ------------------------------------------------------------------------------------


@admin.register(Unit)
class UnitAdmin(ServiceAdmin):
    form = StableCodeForm
    list_display = ("code", "name", "factor_to_kg", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    readonly_fields = ("id", "created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Unit, form: Any, change: bool) -> None:
        if not change:
            created = services.unit_create(
                actor=request.user,
                code=obj.code,
                name=obj.name,
                factor_to_kg=obj.factor_to_kg,
                description=obj.description,
                is_active=obj.is_active,
            )
            obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
            return
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in services.UNIT_UPDATABLE}
        services.unit_update(actor=request.user, unit_id=obj.pk, **changes)


# --- commodities ------------------------------------------------------------------------------


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
            created = services.commodity_create(
                actor=request.user,
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
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in services.COMMODITY_UPDATABLE}
        services.commodity_update(actor=request.user, commodity_id=obj.pk, **changes)

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
                    created = services.variety_create(
                        actor=request.user, commodity_id=commodity_id, **{k: data[k] for k in keys}
                    )
                    formset.new_objects.append(created)
                else:
                    changes = {k: data[k] for k in inline_form.changed_data if k in services.VARIETY_UPDATABLE}
                    updated = services.variety_update(
                        actor=request.user, commodity_id=commodity_id, variety_id=instance.pk, **changes
                    )
                    formset.changed_objects.append((updated, list(changes)))
            elif formset.model is QualityParameter:
                if instance._state.adding:
                    keys = ("code", "name", "kind", *sorted(services.PARAMETER_UPDATABLE - {"name"}))
                    parameter = services.parameter_create(
                        actor=request.user, commodity_id=commodity_id, **{k: data[k] for k in keys if k in data}
                    )
                    formset.new_objects.append(parameter)
                else:
                    changes = {k: data[k] for k in inline_form.changed_data if k in services.PARAMETER_UPDATABLE}
                    parameter = services.parameter_update(
                        actor=request.user, commodity_id=commodity_id, parameter_id=instance.pk, **changes
                    )
                    formset.changed_objects.append((parameter, list(changes)))


# --- schedules --------------------------------------------------------------------------------


class ScheduleRuleInline(admin.TabularInline):
    model = ScheduleRule
    fields = ("parameter", "kind", "lower", "upper", "basis", "adjustment_kind", "value", "step", "note")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ScheduleRule]:
        return super().get_queryset(request).select_related("parameter").order_by("parameter__order", "lower")

    # Rules are part of their schedule version: editing them is changing the schedule (the
    # service checks commodities.change_qualityschedule), and only while it is a draft.
    def _editable(self, request: HttpRequest, obj: QualitySchedule | None) -> bool:
        capability = "commodities.change_qualityschedule" if obj else "commodities.add_qualityschedule"
        return (obj is None or not obj.is_frozen) and request.user.has_perm(capability)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("commodities.view_qualityschedule") or self._editable(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "parameter":
            kwargs["queryset"] = QualityParameter.objects.filter(kind="NUMERIC").select_related("commodity")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(QualitySchedule)
class QualityScheduleAdmin(ServiceAdmin):
    list_display = ("commodity", "version", "name", "effective_from", "is_active", "activated_at")
    list_filter = ("commodity", "is_active")
    list_select_related = ("commodity",)
    search_fields = ("name", "commodity__code")
    inlines = [ScheduleRuleInline]
    actions = ["activate"]
    fields = ("commodity", "version", "name", "basis_description", "effective_from", "is_active", "activated_at")
    readonly_fields = ("version", "is_active", "activated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.is_frozen:
            return self.fields  # an activated version never changes
        return (*self.readonly_fields, "commodity") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: QualitySchedule, form: Any, change: bool) -> None:
        if not change:
            created = services.schedule_create(
                actor=request.user,
                commodity_id=obj.commodity_id,
                name=obj.name,
                basis_description=obj.basis_description,
                effective_from=obj.effective_from,
            )
            obj.pk, obj.version, obj.created_at = created.pk, created.version, created.created_at
            return
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in services.SCHEDULE_UPDATABLE}
        if changes:
            services.schedule_update(actor=request.user, schedule_id=obj.pk, **changes)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is not ScheduleRule or not formset.has_changed():
            return
        rules = []
        for inline_form in formset.forms:
            data = getattr(inline_form, "cleaned_data", None)
            if not data or data.get("DELETE") or (inline_form.instance._state.adding and not inline_form.has_changed()):
                continue
            rules.append(
                services.RuleSpec(
                    parameter=data["parameter"].code,
                    kind=data["kind"],
                    lower=data.get("lower"),
                    upper=data.get("upper"),
                    basis=data.get("basis"),
                    adjustment_kind=data.get("adjustment_kind") or "",
                    value=data.get("value"),
                    step=data.get("step"),
                    note=data.get("note") or "",
                )
            )
        services.schedule_rules_replace(actor=request.user, schedule_id=form.instance.pk, rules=rules)

    @admin.action(description="Activate the selected version (freezes it; deactivates the previous one)")
    def activate(self, request: HttpRequest, queryset: QuerySet[QualitySchedule]) -> None:
        for schedule in queryset:
            try:
                services.schedule_activate(
                    actor=request.user, commodity_id=schedule.commodity_id, schedule_id=schedule.pk
                )
            except DomainError as error:
                self.message_user(request, f"{schedule}: {error.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{schedule} is now active.", messages.SUCCESS)


# --- terms and commissions --------------------------------------------------------------------


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
            typed = {name: getattr(obj, name) for name in services.TERM_UPDATABLE}
            created = services.term_create(actor=request.user, kind=obj.kind, code=obj.code, **typed)
            obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
            return
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in services.TERM_UPDATABLE}
        services.term_update(actor=request.user, term_id=obj.pk, **changes)


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
            created = services.commission_create(
                actor=request.user,
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
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in services.COMMISSION_UPDATABLE}
        services.commission_update(actor=request.user, commodity_id=obj.commodity_id, commission_id=obj.pk, **changes)
