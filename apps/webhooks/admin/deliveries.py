"""Back office for webhook deliveries with their attempts; replay goes through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.actors import request_actor
from apps.core.errors import DomainError
from apps.webhooks.admin.common import _scoped
from apps.webhooks.models import WebhookAttempt, WebhookDelivery
from apps.webhooks.services.deliveries import delivery_replay


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
                delivery_replay(actor=request_actor(request), delivery_id=delivery.pk)
                replayed += 1
            except DomainError as exc:
                self.message_user(request, f"{delivery}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"{replayed} deliver(ies) queued again.", messages.SUCCESS)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.replay_webhookdelivery")
