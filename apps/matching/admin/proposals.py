"""Back office of matches: the desk sees both sides of every proposal of its organization (the
parties see each other only through the token), with the score breakdown and the adjusted
price's explanation, filtered by status, commodity and score band, read-only (matching writes
proposals; nobody edits them by hand). Weights and settings are data the desk may edit."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from apps.accounts.models import User
from apps.matching.models import MatchingSettings, MatchingWeights, MatchProposal
from apps.matching.selectors import proposals_visible_to

SCORE_BANDS = {
    "0.9": ("0.9 and above", 0.9, None),
    "0.8": ("0.8 to 0.9", 0.8, 0.9),
    "0.7": ("0.7 to 0.8", 0.7, 0.8),
    "0.6": ("0.6 to 0.7", 0.6, 0.7),
    "low": ("below 0.6", None, 0.6),
}


class ScoreBandFilter(admin.SimpleListFilter):
    title = "score"
    parameter_name = "score_band"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _, _) in SCORE_BANDS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[MatchProposal]) -> QuerySet[MatchProposal]:
        band = SCORE_BANDS.get(self.value() or "")
        if band is None:
            return queryset
        _, low, high = band
        if low is not None:
            queryset = queryset.filter(score__gte=low)
        if high is not None:
            queryset = queryset.filter(score__lt=high)
        return queryset


@admin.register(MatchProposal)
class MatchProposalAdmin(admin.ModelAdmin):
    list_display = (
        "token_short",
        "requirement",
        "buyer",
        "availability",
        "seller",
        "commodity",
        "score",
        "quality",
        "price",
        "delivery",
        "risk",
        "raw_price_per_kg",
        "adjusted_price_per_kg",
        "status",
        "updated_at",
    )
    list_filter = ("status", "commodity", ScoreBandFilter, "risk_result")
    list_select_related = ("requirement", "availability", "buyer", "seller", "commodity")
    search_fields = ("token", "requirement__number", "availability__number", "buyer__legal_name", "seller__legal_name")
    ordering = ("-score", "id")
    readonly_fields = [f.name for f in MatchProposal._meta.fields] + ["breakdown", "explained"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "token",
                    "status",
                    "organization",
                    "commodity",
                    "requirement",
                    "buyer",
                    "availability",
                    "seller",
                )
            },
        ),
        ("Score", {"fields": ("score", "breakdown", "weights_version", "risk_result", "filters_passed")}),
        (
            "Price",
            {"fields": ("raw_price_per_kg", "adjusted_price_per_kg", "schedule_version", "distance_km", "explained")},
        ),
        ("Life", {"fields": ("proposed_at", "scored_at", "withdrawn_at", "withdrawn_reason", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[MatchProposal]:
        user = request.user
        assert isinstance(user, User)
        return proposals_visible_to(user) if user.user_type != "EXTERNAL" else MatchProposal.objects.none()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="token")
    def token_short(self, obj: MatchProposal) -> str:
        return f"{obj.token[:8]}…"

    def _component(self, obj: MatchProposal, key: str) -> str:
        value = obj.components.get(key)
        return "" if value is None else f"{value:.3f}"

    @admin.display(description="quality")
    def quality(self, obj: MatchProposal) -> str:
        return self._component(obj, "quality")

    @admin.display(description="price")
    def price(self, obj: MatchProposal) -> str:
        return self._component(obj, "price")

    @admin.display(description="delivery")
    def delivery(self, obj: MatchProposal) -> str:
        return self._component(obj, "delivery")

    @admin.display(description="risk")
    def risk(self, obj: MatchProposal) -> str:
        return self._component(obj, "risk")

    @admin.display(description="score breakdown")
    def breakdown(self, obj: MatchProposal) -> str:
        weights = obj.weights or {}
        rows = [
            f"{key}: {self._component(obj, key)} x {weights.get(key, '')}"
            for key in ("quality", "price", "delivery", "risk")
        ]
        warned = " (risk WARN: x 0.9)" if obj.risk_result == "WARN" else ""
        return format_html("<pre>{}</pre>", "\n".join(rows) + f"\n= {obj.score}{warned}")

    @admin.display(description="explanation")
    def explained(self, obj: MatchProposal) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.explanation, indent=2, sort_keys=True))


@admin.register(MatchingWeights)
class MatchingWeightsAdmin(admin.ModelAdmin):
    list_display = ("commodity", "version", "quality", "price", "delivery", "risk", "min_score", "is_active")
    list_filter = ("commodity", "is_active")
    ordering = ("commodity", "-version")


@admin.register(MatchingSettings)
class MatchingSettingsAdmin(admin.ModelAdmin):
    list_display = ("organization", "enforce_radius", "freight_per_kg_km", "proposals_per_requirement")

    def get_queryset(self, request: HttpRequest) -> QuerySet[MatchingSettings]:
        user = request.user
        assert isinstance(user, User)
        queryset = MatchingSettings.objects.select_related("organization")
        if user.user_type == "SUPER_ADMIN":
            return queryset
        if user.organization_id is None:
            return queryset.none()
        return queryset.filter(organization_id=user.organization_id)
