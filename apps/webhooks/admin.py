"""Back office for webhooks: endpoints (never their secrets), deliveries with attempts, replay.

Endpoints are created through the API (the secret is shown to its owner there); the admin
enables and disables them and replays deliveries, always through the services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from apps.core.errors import DomainError
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.webhooks.services import delivery_replay, endpoint_update


def _scoped(request: HttpRequest, queryset: QuerySet[Any], organization_field: str) -> QuerySet[Any]:
    """Organization staff see their own organization's rows only."""
    user = request.user
    if getattr(user, "user_type", None) == "SUPER_ADMIN" or user.is_superuser:
        return queryset
    return queryset.filter(**{organization_field: getattr(user, "organization_id", None)})


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


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    ordering = ("attempted_at", "id")
    fields = ("attempt_number", "attempted_at", "succeeded", "status_code", "latency_ms", "error", "response_excerpt")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event_type",
        "event_id",
        "endpoint",
        "status",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("endpoint",)
    search_fields = ("=event_id", "event_type", "=endpoint__id", "endpoint__url")
    ordering = ("-created_at",)
    inlines = [WebhookAttemptInline]
    actions = ["replay"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return _scoped(request, super().get_queryset(request), "endpoint__organization_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Replay the selected failed, dead or cancelled deliveries", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        replayed = 0
        for delivery in queryset:
            try:
                delivery_replay(delivery_id=delivery.pk)
                replayed += 1
            except DomainError as exc:
                self.message_user(request, f"{delivery}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"{replayed} deliver(ies) queued again.", messages.SUCCESS)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.replay_webhookdelivery")
