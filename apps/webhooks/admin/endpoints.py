"""Back office for webhook endpoints (never their stored secrets).

Organization staff with `webhooks.add_webhookendpoint` add an endpoint here or through the API,
both through `endpoint_create` (address filter, event patterns); the signing secret is shown once,
on the page after the addition, as the API shows it once. The admin enables and disables
endpoints, always through the services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from apps.core.actors import request_actor
from apps.core.admin import add_domain_error
from apps.core.errors import DomainError
from apps.webhooks.admin.common import _scoped
from apps.webhooks.models import WebhookEndpoint
from apps.webhooks.permissions import owner_of
from apps.webhooks.services.endpoints import endpoint_create, endpoint_update


class EndpointAddForm(forms.Form):
    url = forms.CharField(label="URL", max_length=500, help_text="https:// address that receives the signed POSTs.")
    event_types = forms.CharField(
        label="Event types",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One pattern per line or comma-separated: an event type, `app.*` or `*`.",
    )
    description = forms.CharField(max_length=200, required=False)

    def event_type_list(self) -> list[str]:
        raw = self.cleaned_data["event_types"].replace(",", "\n")
        return [line.strip() for line in raw.splitlines() if line.strip()]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "owner", "subscribed_to", "is_active", "disabled_at", "deliveries_link", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "=organization_id", "=partner_id", "description")
    ordering = ("-created_at",)
    exclude = ("secret", "previous_secret")
    readonly_fields = (
        "id",
        "organization_id",
        "partner_id",
        "url",
        "description",
        "event_types",
        "is_active",
        "previous_secret_expires_at",
        "disabled_at",
        "disabled_reason",
        "created_by_id",
        "created_at",
        "updated_at",
        "deliveries_link",
    )
    actions = ["enable", "disable"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEndpoint]:
        return _scoped(request, super().get_queryset(request), "organization_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Staff who own endpoints (an organization's) and hold the permission; the service
        checks both again."""
        return owner_of(request_actor(request)) is not None and request.user.has_perm("webhooks.add_webhookendpoint")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = EndpointAddForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                endpoint = endpoint_create(
                    actor=request_actor(request),
                    url=form.cleaned_data["url"].strip(),
                    event_types=form.event_type_list(),
                    description=form.cleaned_data["description"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)  # shown again with the input, nothing written
            else:
                self.log_addition(request, endpoint, "Added through the endpoint service")
                messages.warning(
                    request,
                    f"Signing secret of {endpoint.url}, shown this once (store it now; rotate it "
                    f"through the API if it is lost): {endpoint.secret}",
                )
                return HttpResponseRedirect(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Add webhook endpoint",
            "object": "A new webhook endpoint of your organization",
            "form": form,
            "submit_label": "Add endpoint",
            "back_url": reverse("admin:webhooks_webhookendpoint_changelist"),
            "opts": self.model._meta,
        }
        return render(request, "admin/core/action_form.html", context)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Owner")
    def owner(self, obj: WebhookEndpoint) -> str:
        return obj.owner_label

    @admin.display(description="Event types")
    def subscribed_to(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types)

    @admin.display(description="Deliveries")
    def deliveries_link(self, obj: WebhookEndpoint) -> str:
        url = reverse("admin:webhooks_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">deliveries</a>', url)

    @admin.action(description="Enable the selected endpoints", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        self._set_active(request, queryset, True)

    @admin.action(
        description="Disable the selected endpoints (cancels their pending deliveries)", permissions=["change"]
    )
    def disable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        self._set_active(request, queryset, False)

    def _set_active(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint], active: bool) -> None:
        done = 0
        for endpoint in queryset:
            try:
                endpoint_update(actor=request_actor(request), endpoint_id=endpoint.pk, is_active=active)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{endpoint}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"{done} endpoint(s) {'enabled' if active else 'disabled'}.", messages.SUCCESS)
