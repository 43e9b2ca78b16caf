"""Back office of availabilities: the desk's approval queue. The organization's availabilities,
filtered by status and commodity, read-only (every change is a service), with Approve (optional
note) and Reject (reason) buttons on a PENDING_APPROVAL one. Each calls its service, which checks
tradedesk.approve_availability, maker-checker (whoever keyed it may not approve it), that the
partner may still sell and that the window has not passed; a refusal is reported with
message_user and nothing changes. Reservations show inline, read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django_object_actions import action

from apps.accounts.models import User
from apps.tradedesk.admin.common import PostingAdmin, ReadOnlyInline
from apps.tradedesk.errors import AvailabilityNotFound
from apps.tradedesk.models import Availability, AvailabilityStatus, Reservation
from apps.tradedesk.selectors import availabilities_visible_to_staff
from apps.tradedesk.services.availabilities import NOTE_MAX_LENGTH, availability_approve, availability_reject


class AvailabilityApproveForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea, required=False, max_length=NOTE_MAX_LENGTH)


class AvailabilityRejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, max_length=NOTE_MAX_LENGTH)


class ReservationInline(ReadOnlyInline):
    model = Reservation
    fields = ("quantity_kg", "status", "purpose", "reference", "buyer", "expires_at", "closed_at")
    readonly_fields = fields
    ordering = ("-created_at",)


@admin.register(Availability)
class AvailabilityAdmin(PostingAdmin):
    list_display = (
        "number",
        "partner",
        "commodity",
        "variety",
        "status",
        "total_kg",
        "available_kg",
        "reserved_kg",
        "sold_kg",
        "price_per_kg",
        "state_code",
        "visibility",
        "submitted_at",
        "expires_at",
    )
    list_filter = ("status", "commodity", "visibility")
    inlines = [ReservationInline]
    readonly_fields = [f.name for f in Availability._meta.fields] + ["invited_partners"]
    change_actions = ("approve", "reject")
    actionable_states = (AvailabilityStatus.PENDING_APPROVAL,)
    not_found = AvailabilityNotFound

    def get_queryset(self, request: HttpRequest) -> QuerySet[Availability]:
        user = request.user
        assert isinstance(user, User)
        return availabilities_visible_to_staff(user)

    @action(button_type="a", label="Approve", description="Put the availability on the market")
    def approve(self, request: HttpRequest, obj: Availability) -> HttpResponse | None:
        if not self.in_scope(request, obj):
            return None
        form = AvailabilityApproveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self.run_service(
                request,
                "Availability approved; it is on the market.",
                availability_approve,
                availability_id=obj.pk,
                note=form.cleaned_data["note"],
            )
            return None
        return self.action_form_page(request, obj, form, "Approve the availability", "Approve")

    @action(button_type="a", label="Reject", description="Refuse the availability with a reason")
    def reject(self, request: HttpRequest, obj: Availability) -> HttpResponse | None:
        if not self.in_scope(request, obj):
            return None
        form = AvailabilityRejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            self.run_service(
                request,
                "Availability rejected.",
                availability_reject,
                availability_id=obj.pk,
                reason=form.cleaned_data["reason"],
            )
            return None
        return self.action_form_page(request, obj, form, "Reject the availability", "Reject")
