"""Back office of requirements: the organization's requirements, filtered by status, commodity
and urgency, read-only (every change is a service), with a Cancel button (optional reason) for
staff holding tradedesk.change_requirement. A refusal is reported with message_user and
nothing changes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django_object_actions import DjangoObjectActions, action

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.partners.admin.base import ServiceActionsMixin
from apps.tradedesk.errors import RequirementNotFound
from apps.tradedesk.models import Requirement, RequirementDeliveryLocation
from apps.tradedesk.selectors import requirements_visible_to
from apps.tradedesk.services.requirements import OPEN_STATES, REASON_MAX_LENGTH, requirement_cancel


class RequirementCancelForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, required=False, max_length=REASON_MAX_LENGTH)


class DeliveryLocationInline(admin.TabularInline):
    model = RequirementDeliveryLocation
    extra = 0
    can_delete = False
    fields = ("location", "radius_km")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Requirement)
class RequirementAdmin(ServiceActionsMixin, DjangoObjectActions, admin.ModelAdmin):
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
    list_select_related = ("partner", "commodity", "variety")
    search_fields = ("number", "partner__code", "partner__legal_name")
    ordering = ("-created_at",)
    inlines = [DeliveryLocationInline]
    readonly_fields = [f.name for f in Requirement._meta.fields] + ["invited_partners"]
    change_actions = ("cancel",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Requirement]:
        user = request.user
        assert isinstance(user, User)
        try:
            return requirements_visible_to(user)
        except DomainError:  # staff without the read capability
            return Requirement.objects.none()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_change_actions(self, request: HttpRequest, object_id: str, form_url: str) -> Any:
        """Cancel only on an open requirement the staff member may see."""
        try:
            is_open = self.get_queryset(request).filter(pk=object_id, status__in=OPEN_STATES).exists()
        except (ValueError, ValidationError):  # not a UUID: the change view answers it
            return ()
        return self.change_actions if is_open else ()

    @action(button_type="a", label="Cancel", description="Withdraw the requirement from the market")
    def cancel(self, request: HttpRequest, obj: Requirement) -> HttpResponse | None:
        if not self.get_queryset(request).filter(pk=obj.pk).exists():
            self.message_user(
                request, f"{RequirementNotFound.default_detail} ({RequirementNotFound.code})", messages.ERROR
            )
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
