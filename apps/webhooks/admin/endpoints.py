"""Back office for webhook endpoints (never their secrets).

Endpoints are created through the API (the secret is shown to its owner there); the admin
enables and disables them, always through the services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from apps.core.errors import DomainError
from apps.webhooks.admin.common import _scoped
from apps.webhooks.models import WebhookEndpoint
from apps.webhooks.services.endpoints import endpoint_update


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
        return False

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
                endpoint_update(actor=request.user, endpoint_id=endpoint.pk, is_active=active)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{endpoint}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"{done} endpoint(s) {'enabled' if active else 'disabled'}.", messages.SUCCESS)
