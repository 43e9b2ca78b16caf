"""What the endpoint and delivery use cases share: creating deliveries, cancelling pending ones and
queueing their tasks after commit. No use case lives here."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from apps.core.logging import get_logger
from apps.events.envelope import EventEnvelope
from apps.webhooks.models import (
    RETRYABLE_STATUSES,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)

log = get_logger(__name__)


def _cancel_pending_deliveries(endpoint_id: UUID, *, reason: str, exclude: UUID | None = None) -> int:
    queryset = WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status__in=RETRYABLE_STATUSES)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    return queryset.update(
        status=DeliveryStatus.CANCELLED,
        next_attempt_at=None,
        enqueued_until=None,
        last_error=reason,
        updated_at=timezone.now(),
    )


def _deliveries_create(envelope: EventEnvelope, endpoints: list[WebhookEndpoint]) -> list[WebhookDelivery]:
    if not endpoints:
        return []
    already = set(
        WebhookDelivery.objects.filter(event_id=envelope.id, endpoint__in=endpoints).values_list(
            "endpoint_id", flat=True
        )
    )
    now = timezone.now()
    body = json.dumps(envelope.as_dict(), cls=DjangoJSONEncoder, separators=(",", ":"))
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint,
            event_id=envelope.id,
            event_type=envelope.type,
            body=body,
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            enqueued_until=now + timedelta(seconds=settings.WEBHOOKS_ENQUEUE_GRACE_SECONDS),
        )
        for endpoint in endpoints
        if endpoint.id not in already
    ]
    # A concurrent relay of the same event loses the race quietly; its queued ids find no row.
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    _enqueue_on_commit([d.id for d in deliveries])
    return deliveries


def _enqueue_on_commit(delivery_ids: list[UUID], *, eta: datetime | None = None) -> None:
    if delivery_ids:
        transaction.on_commit(partial(_enqueue, [str(i) for i in delivery_ids], eta))


def _enqueue(delivery_ids: list[str], eta: datetime | None) -> None:
    """Never raises: when the broker is down the sweeper finds the deliveries later."""
    from apps.webhooks.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        try:
            deliver_webhook.apply_async(args=[delivery_id], eta=eta)
        except Exception as exc:  # the sweeper is the safety net
            log.warning("webhooks.enqueue_failed", delivery_id=delivery_id, error=type(exc).__name__)
