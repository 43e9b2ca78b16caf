from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.actors import request_actor
from apps.core.admin import for_each_selected
from apps.events.models import EventStatus, HandlerRun, OutboxEvent
from apps.events.services.events import event_replay


class HandlerRunInline(admin.TabularInline):
    model = HandlerRun
    extra = 0
    can_delete = False
    readonly_fields = ("handler", "status", "attempts", "last_error", "updated_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("position", "type", "status", "attempts", "aggregate_type", "aggregate_id", "occurred_at")
    list_filter = ("status", "type", "aggregate_type")
    search_fields = ("=id", "=aggregate_id", "type", "=correlation_id")
    ordering = ("-position",)
    inlines = [HandlerRunInline]
    actions = ["replay"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxEvent]:
        """Staff granted the outbox see their organization's events; the platform sees all."""
        events = super().get_queryset(request)
        actor = request_actor(request)
        if actor.is_superuser or actor.user_type == "SUPER_ADMIN":
            return events
        return events.filter(organization_id=actor.organization_id) if actor.organization_id else events.none()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Replay the selected dead-lettered events", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        actor = request_actor(request)
        for_each_selected(
            self,
            request,
            queryset.filter(status=EventStatus.DEAD),
            lambda event: event_replay(actor=actor, event_id=event.id),
            done="{count} event(s) queued again.",
        )

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("events.replay_outboxevent")
