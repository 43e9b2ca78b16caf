"""Back office of requirements: the organization's requirements, filtered by status, commodity
and urgency, read-only (every change is a service), with a Cancel button (optional reason) for
staff holding tradedesk.change_requirement. A refusal is reported with message_user and
nothing changes."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django_object_actions import action
from import_export.admin import ExportActionMixin
from import_export.formats.base_formats import CSV, XLSX

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.core.formatting import indian_number, trimmed_number
from apps.tradedesk.admin.common import (
    PostingAdmin,
    ReadOnlyInline,
    StateCodeFilter,
    entered_price,
    parameters_table,
    per_candy,
)
from apps.tradedesk.errors import RequirementNotFound
from apps.tradedesk.models import Requirement, RequirementDeliveryLocation
from apps.tradedesk.resources import RequirementResource
from apps.tradedesk.selectors import requirements_visible_to
from apps.tradedesk.services.requirements import OPEN_STATES, REASON_MAX_LENGTH, requirement_cancel


class RequirementCancelForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, required=False, max_length=REASON_MAX_LENGTH)


class DeliveryLocationInline(ReadOnlyInline):
    model = RequirementDeliveryLocation
    fields = ("location", "radius_km")
    readonly_fields = fields


@admin.register(Requirement)
class RequirementAdmin(ExportActionMixin, PostingAdmin):
    resource_classes = [RequirementResource]
    formats = [CSV, XLSX]
    show_change_form_export = False
    change_form_template = "django_object_actions/change_form.html"
    list_display = (
        "number",
        "partner",
        "goods",
        "status_badge",
        "urgency",
        "quantity_range",
        "fulfilled",
        "max_price_entered",
        "max_price_per_rate_unit",
        "state_code",
        "valid_until",
    )
    list_filter = ("status", "commodity", "urgency", "visibility", StateCodeFilter)
    list_select_related = (  # type: ignore[assignment]
        "partner",
        "commodity",
        "commodity__rate_unit",
        "variety",
        "quantity_unit",
        "price_unit",
    )
    inlines = [DeliveryLocationInline]
    readonly_fields = [f.name for f in Requirement._meta.fields] + [
        "invited_partners",
        "status_badge",
        "quantity_range",
        "fulfilled",
        "max_price_entered",
        "max_price_per_rate_unit",
        "spec_table",
    ]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "status_badge", "partner", "urgency"),
                    ("commodity", "variety"),
                    ("quantity_range", "fulfilled"),
                    ("max_price_entered", "max_price_per_rate_unit"),
                    "spec_table",
                )
            },
        ),
        (
            "Terms",
            {
                "fields": (
                    ("delivery_from", "delivery_until"),
                    ("payment_term", "delivery_term"),
                    ("valid_from", "valid_until", "published_at", "closed_at"),
                    ("state_code", "region"),
                    ("visibility", "invited_partners"),
                    "created_by",
                )
            },
        ),
    )
    change_actions = ("cancel",)
    actionable_states = OPEN_STATES
    not_found = RequirementNotFound

    @admin.display(description="Quantity", ordering="max_kg")
    def quantity_range(self, obj: Requirement) -> str:
        unit = obj.quantity_unit.code.lower()
        low, high = trimmed_number(obj.min_quantity), trimmed_number(obj.max_quantity)
        text = f"{low} - {high} {unit}" if low != high else f"{high} {unit}"
        if unit != "kg":
            text += f" ({trimmed_number(obj.min_kg)} - {trimmed_number(obj.max_kg)} kg)"
        return text

    @admin.display(description="Fulfilled kg", ordering="fulfilled_kg")
    def fulfilled(self, obj: Requirement) -> str:
        return trimmed_number(obj.fulfilled_kg)

    @admin.display(description="Max price as entered")
    def max_price_entered(self, obj: Requirement) -> str:
        return entered_price(obj.max_price, obj.price_unit, obj.max_price_per_kg)

    @admin.display(description="Max Rs per candy", ordering="max_price_per_kg")
    def max_price_per_rate_unit(self, obj: Requirement) -> str:
        return indian_number(per_candy(obj.max_price_per_kg, obj.commodity), 0)

    @admin.display(description="Specification")
    def spec_table(self, obj: Requirement) -> str:
        return parameters_table(obj.spec, obj.commodity)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Requirement]:
        user = request.user
        assert isinstance(user, User)
        try:
            return requirements_visible_to(user)
        except DomainError:  # staff without the read capability
            return Requirement.objects.none()

    @action(button_type="a", label="Cancel", description="Withdraw the requirement from the market")
    def cancel(self, request: HttpRequest, obj: Requirement) -> HttpResponse | None:
        if not self.in_scope(request, obj):
            return None
        form = RequirementCancelForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Requirement cancelled.",
                requirement_cancel,
                requirement_id=obj.pk,
                reason=form.cleaned_data["reason"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, f"Cancel {obj}", "Cancel the requirement")
