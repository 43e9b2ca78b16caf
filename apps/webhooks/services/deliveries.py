"""Webhook delivery use cases: the fan-out of events into deliveries, attempts, the sweeper and replay."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.logging import get_logger
from apps.events.envelope import EventEnvelope
from apps.events.registry import event_type_matches
from apps.webhooks import transport
from apps.webhooks.destinations import resolve_destination
from apps.webhooks.errors import WebhookDeliveryNotReplayable, WebhookEndpointInactive, WebhookUrlNotAllowed
from apps.webhooks.models import (
    REPLAYABLE_STATUSES,
    RETRYABLE_STATUSES,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.webhooks.permissions import ensure_can_replay_delivery
from apps.webhooks.schedule import max_attempts, retry_after_seconds, retry_delay_seconds
from apps.webhooks.services.common import _deliveries_create, _enqueue_on_commit
from apps.webhooks.services.endpoints import endpoint_disable
from apps.webhooks.signing import signed_headers

log = get_logger(__name__)


def deliveries_create_for_event(envelope: EventEnvelope) -> None:
    """The `webhooks.fanout` event handler: one delivery per active endpoint that subscribes to
    the event, among its organization's endpoints and, for a partner's event, that partner's and
    those of the further partners it concerns (`parties`: both sides of a trade).

    Runs in the relay's handler transaction, so it only writes rows; tasks are queued after
    commit. Unique per (event, endpoint): seeing the event again creates nothing.
    """
    if envelope.organization is None:
        return
    owners = Q(partner_id__isnull=True)
    partners = [p for p in (envelope.partner, *envelope.parties) if p]
    if partners:
        owners |= Q(partner_id__in=partners)
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(owners, organization_id=envelope.organization, is_active=True)
        .only("id", "event_types")
        .order_by("created_at", "id")
        if any(event_type_matches(pattern, envelope.type) for pattern in endpoint.event_types)
    ]
    _deliveries_create(envelope, endpoints)


@dataclass(frozen=True)
class AttemptOutcome:
    delivery_id: UUID
    attempt_number: int
    status: str
    status_code: int | None
    error: str
    next_attempt_at: datetime | None


def delivery_attempt(*, delivery_id: UUID | str) -> AttemptOutcome | None:
    """Make the next attempt of a due delivery, if this caller wins the claim.

    1. Claim: one conditional UPDATE (due, retryable, lease free) stamps a lease and a token, so
       two workers never send the same attempt. Returns None when there is nothing to do.
    2. Send: resolve and check the URL again, sign, POST; outside any transaction.
    3. Record (short transaction): the attempt row, and the delivery's next state: 2xx
       SUCCEEDED; 410 disables the endpoint and cancels; otherwise the next try per the
       schedule (429/503 honour Retry-After), or DEAD after the last.
    """
    claimed = _delivery_claim(delivery_id)
    if claimed is None:
        return None
    delivery, token = claimed
    endpoint = delivery.endpoint
    attempted_at = timezone.now()
    if not endpoint.is_active:
        return _delivery_cancel(delivery, token, reason="The endpoint is disabled.")
    try:
        destination = resolve_destination(endpoint.url)
    except WebhookUrlNotAllowed as exc:
        result = transport.SendResult(status_code=None, latency_ms=0, error=f"refused: {exc.detail}")
    else:
        headers = signed_headers(
            msg_id=str(delivery.event_id),
            timestamp=attempted_at,
            body=delivery.body,
            secrets_in_use=_secrets_in_use(endpoint, attempted_at),
        )
        result = transport.post(destination, body=delivery.body, headers=headers)
    return _delivery_record(delivery, token, attempted_at=attempted_at, result=result)


def _secrets_in_use(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    in_use = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        in_use.append(endpoint.previous_secret)
    return in_use


def _delivery_claim(delivery_id: UUID | str) -> tuple[WebhookDelivery, UUID] | None:
    now = timezone.now()
    token = uuid.uuid4()
    lease = timedelta(seconds=max(settings.WEBHOOKS_CLAIM_LEASE_SECONDS, 3 * settings.WEBHOOKS_TIMEOUT_SECONDS))
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status__in=RETRYABLE_STATUSES, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + lease, claim_token=token)
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:  # its endpoint was deleted in between
        return None
    return delivery, token


def _delivery_cancel(delivery: WebhookDelivery, token: UUID, *, reason: str) -> AttemptOutcome | None:
    updated = WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=token).update(
        status=DeliveryStatus.CANCELLED,
        next_attempt_at=None,
        claimed_until=None,
        claim_token=None,
        enqueued_until=None,
        last_error=reason,
        updated_at=timezone.now(),
    )
    if not updated:
        return None
    return AttemptOutcome(delivery.id, delivery.attempt_count, DeliveryStatus.CANCELLED, None, reason, None)


def _failure_message(result: transport.SendResult) -> str:
    code = result.status_code
    if code is None:
        return result.error or "No answer."
    if 300 <= code < 400:
        return f"HTTP {code}: redirect to {result.location or '(no Location)'} not followed."
    if code == 410:
        return "HTTP 410 Gone: the endpoint was disabled."
    return f"HTTP {code}."


def _delivery_record(
    delivery: WebhookDelivery, token: UUID, *, attempted_at: datetime, result: transport.SendResult
) -> AttemptOutcome | None:
    code = result.status_code
    succeeded = code is not None and 200 <= code < 300
    gone = code == 410
    error = "" if succeeded else _failure_message(result)
    attempt_number = delivery.attempt_count + 1
    enqueue_at: datetime | None = None
    with transaction.atomic():
        if gone:
            WebhookEndpoint.objects.select_for_update().filter(pk=delivery.endpoint_id).first()  # lock order
        current = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).first()
        if current is None:  # deleted with its endpoint while we were sending
            return None
        WebhookAttempt.objects.create(
            delivery=current,
            attempt_number=attempt_number,
            attempted_at=attempted_at,
            url=delivery.endpoint.url,
            succeeded=succeeded,
            status_code=code,
            latency_ms=result.latency_ms,
            response_excerpt=result.response_excerpt,
            error=" ".join(dict.fromkeys(part for part in (error, result.error) if part)),
        )
        if current.claim_token != token:
            # Our lease ran out and another worker claimed the delivery: it decides what is next.
            log.warning("webhooks.claim_lost", delivery_id=str(current.id), attempt=attempt_number)
            return AttemptOutcome(current.id, attempt_number, current.status, code, error, current.next_attempt_at)
        now = timezone.now()
        current.attempt_count = attempt_number
        current.last_status_code = code
        current.last_error = error
        current.claimed_until = current.claim_token = current.enqueued_until = None
        if succeeded:
            current.status, current.next_attempt_at, current.delivered_at = DeliveryStatus.SUCCEEDED, None, now
        elif gone:
            current.status, current.next_attempt_at = DeliveryStatus.CANCELLED, None
            endpoint_disable(endpoint_id=current.endpoint_id, reason=f"HTTP 410 Gone at {now.isoformat()}.")
        elif attempt_number >= max_attempts():
            current.status, current.next_attempt_at = DeliveryStatus.DEAD, None
        else:
            delay = retry_after_seconds(result.retry_after, now=now) if code in (429, 503) else None
            if delay is None:
                delay = retry_delay_seconds(attempt_number) or 0.0
            current.status, current.next_attempt_at = DeliveryStatus.FAILED, now + timedelta(seconds=delay)
            if delay <= settings.WEBHOOKS_TASK_ETA_MAX_SECONDS:
                enqueue_at = current.next_attempt_at
                current.enqueued_until = enqueue_at + timedelta(seconds=settings.WEBHOOKS_ENQUEUE_GRACE_SECONDS)
        current.save(
            update_fields=[
                "status",
                "attempt_count",
                "next_attempt_at",
                "claimed_until",
                "claim_token",
                "enqueued_until",
                "last_status_code",
                "last_error",
                "delivered_at",
                "updated_at",
            ]
        )
        if enqueue_at is not None:
            _enqueue_on_commit([current.id], eta=enqueue_at)
    if not succeeded:
        log.warning(
            "webhooks.attempt_failed",
            delivery_id=str(current.id),
            attempt=attempt_number,
            status_code=code,
            next_status=current.status,
        )
    return AttemptOutcome(current.id, attempt_number, current.status, code, error, current.next_attempt_at)


def deliveries_enqueue_due(*, limit: int | None = None) -> int:
    """The beat sweeper: queue a task for every due delivery no task is believed queued for
    (a lost message, a retry too far away for a Celery ETA). Marks them so the next sweep
    leaves them alone for WEBHOOKS_ENQUEUE_GRACE_SECONDS. Returns how many were queued."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.filter(status__in=RETRYABLE_STATUSES, next_attempt_at__lte=now)
            .filter(Q(enqueued_until__isnull=True) | Q(enqueued_until__lt=now))
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[: limit or settings.WEBHOOKS_SWEEP_BATCH_SIZE]
        )
        if ids:
            WebhookDelivery.objects.filter(id__in=ids).update(
                enqueued_until=now + timedelta(seconds=settings.WEBHOOKS_ENQUEUE_GRACE_SECONDS)
            )
            _enqueue_on_commit(ids)
    return len(ids)


def delivery_replay(*, actor: Actor, delivery_id: UUID) -> WebhookDelivery:
    """Send a failed, dead or cancelled delivery again, with a fresh retry schedule. Earlier
    attempts stay recorded. Refuses an actor without the replay permission or outside the
    endpoint's owner (403), and while the endpoint is disabled (409)."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint").get(pk=delivery_id)
        )
        ensure_can_replay_delivery(actor, delivery.endpoint.organization_id, delivery.endpoint.partner_id)
        if delivery.status not in REPLAYABLE_STATUSES:
            raise WebhookDeliveryNotReplayable(
                f"Delivery {delivery.id} is {delivery.status}; only FAILED, DEAD or CANCELLED ones can be replayed."
            )
        if not delivery.endpoint.is_active:
            raise WebhookEndpointInactive(f"The endpoint {delivery.endpoint.url} is disabled; enable it first.")
        delivery.status = DeliveryStatus.PENDING
        delivery.attempt_count = 0
        delivery.next_attempt_at = now
        delivery.claimed_until = delivery.claim_token = None
        delivery.enqueued_until = now + timedelta(seconds=settings.WEBHOOKS_ENQUEUE_GRACE_SECONDS)
        delivery.save(
            update_fields=[
                "status",
                "attempt_count",
                "next_attempt_at",
                "claimed_until",
                "claim_token",
                "enqueued_until",
                "updated_at",
            ]
        )
        _enqueue_on_commit([delivery.id])
    return delivery
