"""Back office of availabilities: the desk's approval queue. The organization's availabilities,
filtered by status and commodity, read-only (every change is a service), with Approve (optional
note) and Reject (reason) buttons on a PENDING_APPROVAL one. Each calls its service, which checks
tradedesk.approve_availability, maker-checker (whoever keyed it may not approve it), that the
partner may still sell and that the window has not passed; a refusal is reported with
message_user and nothing changes. Reservations show inline, read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_object_actions import action
from import_export.admin import ExportActionMixin
from import_export.formats.base_formats import CSV, XLSX

from apps.accounts.models import User
from apps.core.admin import domain_error_message
from apps.core.errors import DomainError
from apps.core.formatting import indian_number, quantity_text, trimmed_number
from apps.tradedesk.admin.common import (
    PostingAdmin,
    ReadOnlyInline,
    StateCodeFilter,
    entered_price,
    entered_quantity,
    parameters_table,
    per_candy,
)
from apps.tradedesk.errors import AvailabilityNotFound
from apps.tradedesk.models import Availability, AvailabilityStatus, Reservation
from apps.tradedesk.resources import AvailabilityResource
from apps.tradedesk.selectors import availabilities_visible_to_staff
from apps.tradedesk.services.availabilities import NOTE_MAX_LENGTH, availability_approve, availability_reject


def actor_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class AvailabilityApproveForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea, required=False, max_length=NOTE_MAX_LENGTH)


class AvailabilityRejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, max_length=NOTE_MAX_LENGTH)


class ReservationInline(ReadOnlyInline):
    model = Reservation
    fields = ("quantity_kg", "status", "purpose", "reference", "buyer", "expires_at", "closed_at")
    readonly_fields = fields
    ordering = ("-created_at",)


class AvailabilityQueueFilter(admin.SimpleListFilter):
    """The desk's list opens on what needs a decision (pending approval); "All" shows every
    state, and an explicit status filter wins. A search looks through every state: whoever types
    a posting's number wants that posting, whatever its state."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("market", "On the market"), ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        explicit = any(key.startswith("status") for key in changelist.params) or bool(changelist.query)
        yield {
            "selected": self.value() is None and not explicit,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Pending approval (to work)",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Availability]) -> Any:
        value = self.value()
        if value is None:
            if any(key.startswith("status") for key in request.GET) or request.GET.get("q"):
                return queryset
            return queryset.filter(status=AvailabilityStatus.PENDING_APPROVAL)
        if value == "market":
            return queryset.filter(status=AvailabilityStatus.ACTIVE)
        return queryset


class BulkRejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, max_length=NOTE_MAX_LENGTH)


@admin.register(Availability)
class AvailabilityAdmin(ExportActionMixin, PostingAdmin):
    resource_classes = [AvailabilityResource]
    formats = [CSV, XLSX]
    show_change_form_export = False
    change_form_template = "django_object_actions/change_form.html"
    list_display = (
        "number",
        "partner",
        "goods",
        "status_badge",
        "quantity_short",
        "available",
        "price_per_rate_unit",
        "price_per_kg_short",
        "state_code",
        "expires_at",
    )
    list_filter = (AvailabilityQueueFilter, "status", "commodity", "visibility", StateCodeFilter)
    list_page_fields = (
        "number",
        "partner",  # its row is read with the page's other related rows (PostingChangeList)
        "commodity",
        "variety",
        "status",
        "quantity",
        "quantity_unit",
        "available_kg",
        "price_per_kg",
        "price_unit",
        "state_code",
        "expires_at",
        "created_at",
    )
    list_select_related = (  # type: ignore[assignment]
        "partner",
        "commodity",
        "commodity__rate_unit",
        "variety",
        "quantity_unit",
        "price_unit",
    )
    inlines = [ReservationInline]
    readonly_fields = [f.name for f in Availability._meta.fields] + [
        "invited_partners",
        "status_badge",
        "quantity_entered",
        "quantities_kg",
        "price_entered",
        "price_per_rate_unit",
        "quality_table",
    ]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "status_badge", "partner"),
                    ("commodity", "variety"),
                    ("quantity_entered", "price_entered", "price_per_rate_unit"),
                    "quantities_kg",
                    ("min_order_kg", "partial_allowed"),
                    "quality_table",
                )
            },
        ),
        (
            "Where and when",
            {
                "fields": (
                    ("location", "state_code", "region", "ship_from_branch"),
                    "delivery_term",
                    ("available_from", "available_until", "day_only", "expires_at"),
                    ("visibility", "invited_partners"),
                )
            },
        ),
        (
            "Approval",
            {"fields": (("created_by", "submitted_at"), ("decided_by", "decided_at"), "decision_note")},
        ),
    )
    change_actions = ("approve", "reject")
    actions = ["approve_selected", "reject_selected"]
    actionable_states = (AvailabilityStatus.PENDING_APPROVAL,)
    not_found = AvailabilityNotFound

    @admin.display(description="Quantity", ordering="total_kg")
    def quantity_entered(self, obj: Availability) -> str:
        return entered_quantity(obj.quantity, obj.quantity_unit, obj.total_kg)

    @admin.display(description="Quantity", ordering="total_kg")
    def quantity_short(self, obj: Availability) -> str:
        return quantity_text(obj.quantity, obj.quantity_unit.code.lower())

    @admin.display(description="Rs / kg", ordering="price_per_kg")
    def price_per_kg_short(self, obj: Availability) -> str:
        return indian_number(obj.price_per_kg)

    @admin.display(description="Available kg", ordering="available_kg")
    def available(self, obj: Availability) -> str:
        return trimmed_number(obj.available_kg)

    @admin.display(description="kg: total / available / reserved / sold")
    def quantities_kg(self, obj: Availability) -> str:
        return " / ".join(trimmed_number(v) for v in (obj.total_kg, obj.available_kg, obj.reserved_kg, obj.sold_kg))

    @admin.display(description="Price as entered")
    def price_entered(self, obj: Availability) -> str:
        return entered_price(obj.price, obj.price_unit, obj.price_per_kg)

    @admin.display(description="Rs / candy", ordering="price_per_kg")
    def price_per_rate_unit(self, obj: Availability) -> str:
        return indian_number(per_candy(obj.price_per_kg, obj.commodity), 0)

    @admin.display(description="Quality")
    def quality_table(self, obj: Availability) -> str:
        return parameters_table(obj.quality, obj.commodity)

    # --- bulk: each posting through its service, each refusal reported per row ---------------

    def _each(self, request: HttpRequest, queryset: QuerySet[Availability], verb: str, call: Any) -> None:
        done, failed = [], []
        for availability in queryset.order_by("number"):
            try:
                call(availability)
            except DomainError as exc:
                failed.append(f"{availability}: {domain_error_message(exc)}")
            else:
                done.append(str(availability))
                self.log_service_action(request, availability, f"Availability {verb} (bulk).")
        if done:
            self.message_user(request, f"{len(done)} {verb}: {', '.join(done)}.", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    @admin.action(description="Approve the selected availabilities")
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Availability]) -> None:
        user = actor_of(request)
        self._each(
            request,
            queryset,
            "approved",
            lambda availability: availability_approve(actor=user, availability_id=availability.pk, note=""),
        )

    @admin.action(description="Reject the selected availabilities (asks for a reason)")
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Availability]) -> HttpResponse | None:
        user = actor_of(request)
        form = BulkRejectForm(request.POST if "_confirm" in request.POST else None)
        if "_confirm" in request.POST and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                "rejected",
                lambda availability: availability_reject(actor=user, availability_id=availability.pk, reason=reason),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject the selected availabilities",
            "objects": queryset.order_by("number"),
            "form": form,
            "action": "reject_selected",
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return render(request, "admin/core/bulk_action_form.html", context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Availability]:
        user = request.user
        assert isinstance(user, User)
        return availabilities_visible_to_staff(user)

    @action(button_type="a", label="Approve", description="Put the availability on the market")
    def approve(self, request: HttpRequest, obj: Availability) -> HttpResponse | None:
        if not self.in_scope(request, obj):
            return None
        form = AvailabilityApproveForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Availability approved; it is on the market.",
                availability_approve,
                availability_id=obj.pk,
                note=form.cleaned_data["note"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, "Approve the availability", "Approve")

    @action(button_type="a", label="Reject", description="Refuse the availability with a reason")
    def reject(self, request: HttpRequest, obj: Availability) -> HttpResponse | None:
        if not self.in_scope(request, obj):
            return None
        form = AvailabilityRejectForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                "Availability rejected.",
                availability_reject,
                availability_id=obj.pk,
                reason=form.cleaned_data["reason"],
                form=form,
            )
        ):
            return None
        return self.action_form_page(request, obj, form, "Reject the availability", "Reject")
