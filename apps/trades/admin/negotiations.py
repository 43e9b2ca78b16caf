"""Back office of negotiations: the organization's negotiations with their transcript (offers
and messages, read-only), filtered by status. Changes happen through the parties (API) or the
services; nothing is edited here."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import User
from apps.tradedesk.admin.common import ReadOnlyInline
from apps.trades.models import Negotiation, NegotiationMessage, Offer, PartnerTradeProfile, TradesSettings
from apps.trades.selectors import negotiations_visible_to


class OfferInline(ReadOnlyInline):
    model = Offer
    fields = (
        "round",
        "side",
        "status",
        "price",
        "price_unit",
        "quantity",
        "quantity_unit",
        "delivery_until",
        "message",
    )
    readonly_fields = fields
    ordering = ("round",)


class MessageInline(ReadOnlyInline):
    model = NegotiationMessage
    fields = ("created_at", "kind", "side", "author", "body")
    readonly_fields = fields
    ordering = ("created_at",)


@admin.register(Negotiation)
class NegotiationAdmin(admin.ModelAdmin):
    list_display = ("id", "buyer", "seller", "status", "rounds", "next_side", "expires_at", "created_at")
    list_filter = ("status",)
    list_select_related = ("buyer", "seller")
    search_fields = ("buyer__code", "buyer__legal_name", "seller__code", "seller__legal_name")
    ordering = ("-created_at",)
    inlines = [OfferInline, MessageInline]
    readonly_fields = [f.name for f in Negotiation._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Negotiation]:
        user = request.user
        assert isinstance(user, User)
        return negotiations_visible_to(user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(TradesSettings)
class TradesSettingsAdmin(admin.ModelAdmin):
    """An organization's negotiation settings (maximum rounds, inactivity expiry), its own only."""

    list_display = ("organization", "max_rounds", "inactivity_hours")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TradesSettings]:
        user = request.user
        assert isinstance(user, User)
        found = TradesSettings.objects.select_related("organization")
        if user.user_type == "SUPER_ADMIN":
            return found
        if user.organization_id is None:
            return found.none()
        return found.filter(organization_id=user.organization_id)


@admin.register(PartnerTradeProfile)
class PartnerTradeProfileAdmin(admin.ModelAdmin):
    """What trades keeps per partner: the agriculturist flag (its sales are under reverse charge).
    Staff see their organization's partners only."""

    list_display = ("partner", "is_agriculturist")
    list_filter = ("is_agriculturist",)
    autocomplete_fields = ("partner",)
    search_fields = ("partner__code", "partner__legal_name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartnerTradeProfile]:
        user = request.user
        assert isinstance(user, User)
        found = PartnerTradeProfile.objects.select_related("partner")
        if user.user_type == "SUPER_ADMIN":
            return found
        if user.organization_id is None:
            return found.none()
        return found.filter(partner__organization_id=user.organization_id)
