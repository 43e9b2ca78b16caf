"""Back office of trades: the organization's trades with status badges and filters, the
negotiation transcript inline (its offers), the amendments, the audit history (pghistory), and
the desk's buttons: Cancel (reason required) and Dispute. Refusals are reported with
message_user and nothing changes."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from django_object_actions import action

from apps.accounts.models import User
from apps.core.formatting import indian_number
from apps.tradedesk.admin.common import PostingAdmin, ReadOnlyInline, entered_quantity, per_candy
from apps.trades.errors import TradeNotFound
from apps.trades.models import Offer, Trade, TradeAmendment, TradeStatus
from apps.trades.selectors import trades_visible_to
from apps.trades.services.trades import DISPUTABLE, FINAL_STATES, trade_cancel, trade_status_change

BADGE_COLOURS = {
    TradeStatus.PENDING_BRANCH_SELECTION: "#b8860b",
    TradeStatus.CONFIRMED: "#1f6feb",
    TradeStatus.IN_TRANSIT: "#8250df",
    TradeStatus.DELIVERED: "#1a7f37",
    TradeStatus.COMPLETED: "#57606a",
    TradeStatus.DISPUTED: "#cf222e",
    TradeStatus.CANCELLED: "#6e7781",
}


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, required=True, max_length=500)


class TranscriptInline(ReadOnlyInline):
    """The negotiation's offers that made the trade."""

    model = Offer
    fk_name = "negotiation"
    fields = ("round", "side", "status", "price", "price_unit", "quantity", "quantity_unit", "message")
    readonly_fields = fields
    verbose_name_plural = "negotiation transcript"


class AmendmentInline(ReadOnlyInline):
    model = TradeAmendment
    fields = ("kind", "status", "requested_by_side", "old_values", "new_values", "reason", "decided_at")
    readonly_fields = fields


@admin.register(Trade)
class TradeAdmin(PostingAdmin):
    list_display = (
        "number",
        "badge",
        "buyer_code",
        "seller_code",
        "goods",
        "quantity_entered",
        "price_per_rate_unit",
        "price_per_kg_text",
        "total_inr",
        "created_at",
    )
    list_filter = ("status", "tax_kind", "commodity", "reverse_charge")
    list_select_related = ("buyer", "seller", "commodity", "commodity__rate_unit", "variety", "quantity_unit")  # type: ignore[assignment]
    partner_fields = ("buyer", "seller")
    search_help_text = "A trade's number, or its buyer's or seller's code or legal name (any part of them)."
    search_fields = (  # type: ignore[assignment]
        "number",
        "buyer__code",
        "buyer__legal_name",
        "seller__code",
        "seller__legal_name",
    )
    inlines = [AmendmentInline]
    readonly_fields = [f.name for f in Trade._meta.fields] + ["transcript", "history"]
    change_actions = ("cancel", "dispute")
    actionable_states = tuple(s for s in TradeStatus.values if s not in FINAL_STATES)
    not_found = TradeNotFound

    def get_queryset(self, request: HttpRequest) -> QuerySet[Trade]:
        user = request.user
        assert isinstance(user, User)
        return trades_visible_to(user)

    @admin.display(description="status", ordering="status")
    def badge(self, obj: Trade) -> str:
        colour = BADGE_COLOURS.get(TradeStatus(obj.status), "#57606a")
        return format_html(
            '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px">{}</span>',
            colour,
            obj.get_status_display(),
        )

    @admin.display(description="Buyer", ordering="buyer__code")
    def buyer_code(self, obj: Trade) -> str:
        return format_html('<span title="{}">{}</span>', obj.buyer.legal_name, obj.buyer.code)

    @admin.display(description="Seller", ordering="seller__code")
    def seller_code(self, obj: Trade) -> str:
        return format_html('<span title="{}">{}</span>', obj.seller.legal_name, obj.seller.code)

    @admin.display(description="Quantity", ordering="quantity_kg")
    def quantity_entered(self, obj: Trade) -> str:
        return entered_quantity(obj.quantity, obj.quantity_unit, obj.quantity_kg)

    @admin.display(description="Rs / candy", ordering="price_per_kg")
    def price_per_rate_unit(self, obj: Trade) -> str:
        return indian_number(per_candy(obj.price_per_kg, obj.commodity), 0)

    @admin.display(description="Rs / kg", ordering="price_per_kg")
    def price_per_kg_text(self, obj: Trade) -> str:
        return indian_number(obj.price_per_kg)

    @admin.display(description="Total (Rs)", ordering="total_amount")
    def total_inr(self, obj: Trade) -> str:
        return indian_number(obj.total_amount)

    @admin.display(description="negotiation transcript")
    def transcript(self, obj: Trade) -> str:
        offers = Offer.objects.filter(negotiation_id=obj.negotiation_id).select_related("price_unit").order_by("round")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} per {}</td><td>{} kg</td><td>{}</td></tr>",
            ((o.round, o.side, o.status, o.price, o.price_unit.code, o.quantity_kg, o.message) for o in offers),
        )
        return format_html("<table>{}</table>", rows)

    @admin.display(description="audit history")
    def history(self, obj: Trade) -> str:
        events = obj.events.order_by("pgh_created_at")  # type: ignore[attr-defined]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e.pgh_created_at, e.pgh_label, e.status, e.total_amount) for e in events),
        )
        return format_html("<table><tr><th>when</th><th>what</th><th>status</th><th>total</th></tr>{}</table>", rows)

    @action(
        button_type="a", label="Cancel", description="Cancel the trade for the desk (reverses what was not delivered)"
    )
    def cancel(self, request: HttpRequest, obj: Trade) -> HttpResponse | None:
        if not self.in_scope(request, obj):
            return None
        form = ReasonForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Trade cancelled.",
                trade_cancel,
                trade_id=obj.pk,
                reason=form.cleaned_data["reason"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, f"Cancel {obj}", "Cancel the trade")

    @action(button_type="a", label="Dispute", description="Put the trade in dispute for the desk to settle")
    def dispute(self, request: HttpRequest, obj: Trade) -> HttpResponse | None:
        if not self.in_scope(request, obj):
            return None
        if obj.status not in DISPUTABLE:
            self.message_user(request, f"A {obj.get_status_display()} trade cannot be disputed.", level="ERROR")
            return None
        form = ReasonForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Trade disputed.",
                trade_status_change,
                trade_id=obj.pk,
                to_status=TradeStatus.DISPUTED,
                reason=form.cleaned_data["reason"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, f"Dispute {obj}", "Dispute the trade")
