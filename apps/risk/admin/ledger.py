"""The exposure ledger, assessments and alerts of the staff member's organization, read-only:
filtered by stage, open or released, result, side and level; searched by partner and source."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.risk import selectors
from apps.risk.admin.common import ReadOnlyAdmin, actor, source_link
from apps.risk.models import Assessment, ExposureAlert, ExposureEntry


class OpenFilter(admin.SimpleListFilter):
    title = "open or released"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Open"), ("no", "Released")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(released_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(released_at__isnull=False)
        return queryset


@admin.register(ExposureEntry)
class ExposureEntryAdmin(ReadOnlyAdmin):
    list_display = ("booked_at", "partner", "stage", "amount", "source", "released_at", "release_reason")
    list_filter = (OpenFilter, "stage", "source_type", "release_reason")
    search_fields = ("partner__code", "partner__legal_name", "=source_id")
    list_select_related = ("partner",)
    ordering = ("-booked_at",)
    readonly_fields = ("source",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExposureEntry]:
        return selectors.exposure_entries_visible_to(actor(request))

    @admin.display(description="Source")
    def source(self, obj: ExposureEntry) -> str:
        return source_link(obj.source_type, obj.source_id)


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "partner", "side", "result", "score", "codes", "amount", "stage", "source")
    list_filter = ("result", "side", "stage", "source_type", "rules_version")
    search_fields = ("partner__code", "partner__legal_name", "=source_id")
    list_select_related = ("partner",)
    ordering = ("-created_at",)
    readonly_fields = ("codes", "source")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assessment]:
        return selectors.assessments_visible_to(actor(request))

    @admin.display(description="Factors")
    def codes(self, obj: Assessment) -> str:
        return "; ".join(f"{f['code']} ({f['points']}): {f['detail']}" for f in obj.factors) or "-"

    @admin.display(description="Source")
    def source(self, obj: Assessment) -> str:
        return source_link(obj.source_type, obj.source_id)


@admin.register(ExposureAlert)
class ExposureAlertAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "partner", "from_level", "to_level", "utilisation", "exposure", "credit_limit")
    list_filter = ("to_level", "from_level")
    search_fields = ("partner__code", "partner__legal_name")
    list_select_related = ("partner",)
    ordering = ("-created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExposureAlert]:
        return selectors.alerts_visible_to(actor(request))
