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

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.tradedesk.admin.common import PostingAdmin, ReadOnlyInline
from apps.tradedesk.errors import RequirementNotFound
from apps.tradedesk.models import Requirement, RequirementDeliveryLocation
from apps.tradedesk.selectors import requirements_visible_to
from apps.tradedesk.services.requirements import OPEN_STATES, REASON_MAX_LENGTH, requirement_cancel


class RequirementCancelForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, required=False, max_length=REASON_MAX_LENGTH)


class DeliveryLocationInline(ReadOnlyInline):
    model = RequirementDeliveryLocation
    fields = ("location", "radius_km")
    readonly_fields = fields


@admin.register(Requirement)
class RequirementAdmin(PostingAdmin):
    list_display = (
        "number",
        "partner",
        "commodity",
        "variety",
        "status",
        "urgency",
        "min_kg",
        "max_kg",
        "fulfilled_kg",
        "max_price_per_kg",
        "state_code",
        "valid_until",
    )
    list_filter = ("status", "commodity", "urgency", "visibility")
    inlines = [DeliveryLocationInline]
    readonly_fields = [f.name for f in Requirement._meta.fields] + ["invited_partners"]
    change_actions = ("cancel",)
    actionable_states = OPEN_STATES
    not_found = RequirementNotFound

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
        if request.method == "POST" and form.is_valid():
            self.run_service(
                request,
                "Requirement cancelled.",
                requirement_cancel,
                requirement_id=obj.pk,
                reason=form.cleaned_data["reason"],
            )
            return None
        return self.action_form_page(request, obj, form, f"Cancel {obj}", "Cancel the requirement")
