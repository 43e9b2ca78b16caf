"""Quality schedules: inline rules, editable only while the version is a draft; an action activates. Every change goes through the services; nothing is deleted here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.requests import request_user
from apps.commodities.admin.common import (
    ServiceAdmin,
)
from apps.commodities.models import (
    QualityParameter,
    QualitySchedule,
    ScheduleRule,
)
from apps.commodities.services.schedules import (
    SCHEDULE_UPDATABLE,
    RuleSpec,
    schedule_activate,
    schedule_create,
    schedule_rules_replace,
    schedule_update,
)
from apps.core.errors import DomainError


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
            created = schedule_create(
                actor=request_user(request),
                commodity_id=obj.commodity_id,
                name=obj.name,
                basis_description=obj.basis_description,
                effective_from=obj.effective_from,
            )
            obj.pk, obj.version, obj.created_at = created.pk, created.version, created.created_at
            return
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in SCHEDULE_UPDATABLE}
        if changes:
            schedule_update(actor=request_user(request), schedule_id=obj.pk, **changes)

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
                RuleSpec(
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
        schedule_rules_replace(actor=request_user(request), schedule_id=form.instance.pk, rules=rules)

    @admin.action(description="Activate the selected version (freezes it; deactivates the previous one)")
    def activate(self, request: HttpRequest, queryset: QuerySet[QualitySchedule]) -> None:
        for schedule in queryset:
            try:
                schedule_activate(
                    actor=request_user(request), commodity_id=schedule.commodity_id, schedule_id=schedule.pk
                )
            except DomainError as error:
                self.message_user(request, f"{schedule}: {error.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{schedule} is now active.", messages.SUCCESS)
