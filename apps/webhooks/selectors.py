"""Reads of webhook endpoints and deliveries, scoped to the caller (permissions.py)."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, QuerySet

from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.webhooks.permissions import VIEW, endpoint_scope, ensure_can_list_endpoints, ensure_has_perm


def endpoints_visible_to(user: Actor) -> QuerySet[WebhookEndpoint]:
    """The endpoints `user` may list. Refuses (403) callers who own none or lack the view permission."""
    return WebhookEndpoint.objects.filter(ensure_can_list_endpoints(user))


def endpoint_get(*, user: Actor, endpoint_id: UUID, action: str = VIEW, lock: bool = False) -> WebhookEndpoint:
    """One endpoint `user` may see (404 otherwise), if it holds the permission for `action` (403).

    With `lock=True` the row is locked (SELECT ... FOR UPDATE); call inside a transaction.
    """
    scope = endpoint_scope(user)
    if scope is None:
        raise NotFound("No such webhook endpoint.")
    queryset = WebhookEndpoint.objects.filter(scope, pk=endpoint_id)
    if lock:
        queryset = queryset.select_for_update()
    endpoint = queryset.first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    ensure_has_perm(user, action)
    return endpoint


def deliveries_of_endpoint(*, user: Actor, endpoint_id: UUID, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """The deliveries of one visible endpoint with their attempts (oldest attempt first)."""
    endpoint = endpoint_get(user=user, endpoint_id=endpoint_id)
    ensure_has_perm(user, VIEW, "webhookdelivery")
    queryset = WebhookDelivery.objects.filter(endpoint=endpoint).defer("body")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.prefetch_related(
        Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("attempted_at", "id"))
    )
