"""Back office for the locations master: search, filters, CSV/Excel import (with a dry-run
preview) and export. Every change goes through the services, so it is validated, checked for
references (deactivation) and emits its event."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from import_export.admin import ImportExportModelAdmin

from apps.accounts.requests import request_user
from apps.core.admin import for_each_selected
from apps.locations.models import Location, LocationSource
from apps.locations.resources import LocationResource
from apps.locations.services.locations import (
    CREATE_FIELDS,
    UPDATABLE_FIELDS,
    location_create,
    location_deactivate,
    location_update,
)


class StateCodeFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state_code"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        used = Location.objects.order_by("state_code").values_list("state_code", "state").distinct()
        return [(code, f"{code} - {name}" if name else code) for code, name in used if code]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Location]) -> QuerySet[Location]:
        return queryset.filter(state_code=self.value()) if self.value() else queryset


@admin.register(Location)
class LocationAdmin(ImportExportModelAdmin):
    resource_classes = [LocationResource]
    list_display = ("name", "district", "state_code", "region", "pincode", "source", "is_active")
    list_filter = (StateCodeFilter, "region", "is_active", "source")
    search_fields = ("name", "city", "district", "state", "pincode", "place_id")
    ordering = ("name",)
    readonly_fields = ("id", "region", "is_active", "created_at", "updated_at")
    actions = ["deactivate_selected", "reactivate_selected"]
    fieldsets = (
        (None, {"fields": ("name", "place_id", "source", "is_active")}),
        ("Address", {"fields": ("address", "city", "district", "state", "state_code", "pincode", "country")}),
        ("Position", {"fields": ("latitude", "longitude", "region", "timezone")}),
        ("Record", {"fields": ("id", "created_at", "updated_at")}),
    )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"source": LocationSource.MANUAL, **super().get_changeform_initial_data(request)}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Where a location came from is history once it exists.
        return (*self.readonly_fields, "place_id", "source") if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # locations are deactivated, never deleted

    def has_import_permission(self, request: HttpRequest) -> bool:
        # An import creates and changes rows: it needs both capabilities, not just the admin's door.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def save_model(self, request: HttpRequest, obj: Location, form: Any, change: bool) -> None:
        # Through the services: validated the same way as the API, with the event emitted.
        if not change:
            created = location_create(
                actor=request_user(request),
                **{f: form.cleaned_data[f] for f in CREATE_FIELDS if f in form.cleaned_data},
            )
            obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
            return
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in UPDATABLE_FIELDS}
        location_update(location_id=obj.pk, actor=request_user(request), **changes)

    @admin.action(description="Deactivate selected locations (refused while in use)", permissions=["change"])
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[Location]) -> None:
        actor = request_user(request)
        for_each_selected(
            self,
            request,
            queryset.order_by("name"),
            lambda location: location_deactivate(location_id=location.pk, actor=actor),
            done="Deactivated {count} location(s).",
        )

    @admin.action(description="Reactivate selected locations", permissions=["change"])
    def reactivate_selected(self, request: HttpRequest, queryset: QuerySet[Location]) -> None:
        actor = request_user(request)
        for_each_selected(
            self,
            request,
            queryset.filter(is_active=False).order_by("name"),
            lambda location: location_update(location_id=location.pk, actor=actor, is_active=True),
            done="Reactivated {count} location(s).",
        )
