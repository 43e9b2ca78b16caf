"""Webhook use cases: endpoints, the fan-out of events into deliveries, and delivery attempts.

Lock order: an endpoint row, then delivery rows. HTTP never runs inside a transaction: an
attempt is claimed by one conditional UPDATE, sent, then recorded in a short transaction.
Tasks are queued after commit; the beat sweeper (`deliveries_enqueue_due`) re-queues whatever
a lost message or a long wait left behind, so queueing is best effort.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.logging import get_logger
from apps.core.request_context import get_request_id
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
from apps.webhooks.permissions import CHANGE, DELETE, ensure_can_create_endpoint
from apps.webhooks.schedule import max_attempts, retry_after_seconds, retry_delay_seconds
from apps.webhooks.selectors import endpoint_get
from apps.webhooks.signing import new_secret, signed_headers

log = get_logger(__name__)

TEST_EVENT_TYPE = "webhooks.endpoint.test"
EVENT_TYPE_PATTERN = re.compile(r"^(\*|[a-z0-9_]+)(\.(\*|[a-z0-9_]+))*$")
MAX_EVENT_TYPES = 50
UPDATABLE_FIELDS = frozenset({"url", "event_types", "description", "is_active"})


# --- Endpoints ------------------------------------------------------------------------------


def endpoint_create(
    *, actor: Any, url: str, event_types: list[str], description: str = "", is_active: bool = True
) -> WebhookEndpoint:
    """Create an endpoint owned by the caller's organization (staff) or partner (partner users).

    Refuses URLs that resolve to private, link-local or loopback addresses (400 on `url`).
    The response of the caller is the only time the secret is shown.
    """
    owner = ensure_can_create_endpoint(actor)
    patterns = clean_event_types(event_types)
    resolve_destination(url)  # DNS before the transaction
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organization_id=owner.organization_id,
            partner_id=owner.partner_id,
            url=url,
            description=description,
            event_types=patterns,
            is_active=is_active,
            secret=new_secret(),
            created_by_id=getattr(actor, "pk", None),
        )
    log.info("webhooks.endpoint_created", endpoint_id=str(endpoint.id), organization_id=str(owner.organization_id))
    return endpoint


def endpoint_update(*, actor: Any, endpoint_id: UUID, **changes: Any) -> WebhookEndpoint:
    """Change url, event types, description or active. Disabling cancels the endpoint's pending
    deliveries (they can be replayed once it is enabled again); a new URL is checked like on create."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if "event_types" in changes:
        changes["event_types"] = clean_event_types(changes["event_types"])
    if "url" in changes:
        resolve_destination(changes["url"])
    now = timezone.now()
    with transaction.atomic():
        endpoint = endpoint_get(user=actor, endpoint_id=endpoint_id, action=CHANGE, lock=True)
        changed = [field for field, value in changes.items() if getattr(endpoint, field) != value]
        if not changed:
            return endpoint
        for field in changed:
            setattr(endpoint, field, changes[field])
        if "is_active" in changed:
            if endpoint.is_active:
                endpoint.disabled_at, endpoint.disabled_reason = None, ""
            else:
                endpoint.disabled_at, endpoint.disabled_reason = now, "Disabled by its owner."
                _cancel_pending_deliveries(endpoint.id, reason="The endpoint was disabled.")
            changed += ["disabled_at", "disabled_reason"]
        endpoint.save(update_fields=[*changed, "updated_at"])
    return endpoint


def endpoint_delete(*, actor: Any, endpoint_id: UUID) -> None:
    """Delete an endpoint with its deliveries and their attempts."""
    with transaction.atomic():
        endpoint = endpoint_get(user=actor, endpoint_id=endpoint_id, action=DELETE, lock=True)
        endpoint.delete()


def endpoint_rotate_secret(*, actor: Any, endpoint_id: UUID) -> WebhookEndpoint:
    """Give the endpoint a new secret. The current one becomes the previous secret and keeps
    signing (a second signature) for WEBHOOKS_PREVIOUS_SECRET_TTL_SECONDS; a secret rotated
    out earlier stops signing at once."""
    with transaction.atomic():
        endpoint = endpoint_get(user=actor, endpoint_id=endpoint_id, action=CHANGE, lock=True)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(
            seconds=settings.WEBHOOKS_PREVIOUS_SECRET_TTL_SECONDS
        )
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    log.info("webhooks.secret_rotated", endpoint_id=str(endpoint.id))
    return endpoint


def endpoint_send_test(*, actor: Any, endpoint_id: UUID) -> WebhookDelivery:
    """Queue a `webhooks.endpoint.test` delivery to this endpoint only, whatever it subscribes to.
    The test event is not written to the outbox, so no other endpoint or consumer sees it."""
    with transaction.atomic():
        endpoint = endpoint_get(user=actor, endpoint_id=endpoint_id, action=CHANGE, lock=True)
        if not endpoint.is_active:
            raise WebhookEndpointInactive()
        actor_id = getattr(actor, "pk", None)
        envelope = EventEnvelope(
            id=str(uuid.uuid4()),
            position=0,
            type=TEST_EVENT_TYPE,
            version=1,
            occurred_at=timezone.now(),
            organization=str(endpoint.organization_id),
            partner=str(endpoint.partner_id) if endpoint.partner_id else None,
            aggregate_type="webhooks.webhookendpoint",
            aggregate_id=str(endpoint.id),
            actor=str(actor_id) if actor_id else None,
            correlation_id=get_request_id() or "",
            payload={"endpoint_id": str(endpoint.id), "message": "A test delivery from Cotton ERP."},
        )
        (delivery,) = _deliveries_create(envelope, [endpoint])
    return delivery


def clean_event_types(event_types: Iterable[str]) -> list[str]:
    """Strip, de-duplicate (keeping order) and check the patterns; refuses with a field error."""
    patterns = list(dict.fromkeys(p.strip() for p in event_types if p and p.strip()))
    if not patterns:
        raise DomainError.for_field("event_types", "Subscribe to at least one event type.", code="required")
    if len(patterns) > MAX_EVENT_TYPES:
        raise DomainError.for_field(
            "event_types", f"At most {MAX_EVENT_TYPES} patterns, got {len(patterns)}.", code="too_many_event_types"
        )
    for pattern in patterns:
        if len(pattern) > 100 or not EVENT_TYPE_PATTERN.match(pattern):
            raise DomainError.for_field(
                "event_types",
                f"Expected an event type such as `tradedesk.availability.approved`, `tradedesk.*` or `*`, "
                f"got {pattern!r}.",
                code="invalid_event_type",
            )
    return patterns


def endpoint_disable(*, endpoint_id: UUID, reason: str) -> None:
    """Disable an endpoint (its URL answered 410 Gone) and cancel its pending deliveries."""
    now = timezone.now()
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(
            is_active=False, disabled_at=now, disabled_reason=reason[:500], updated_at=now
        )
        _cancel_pending_deliveries(endpoint_id, reason=reason)
    log.warning("webhooks.endpoint_disabled", endpoint_id=str(endpoint_id), reason=reason)


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


# --- Fan-out: events into deliveries --------------------------------------------------------


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


# --- Attempts -------------------------------------------------------------------------------


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


# --- Queueing, sweeping, replay -------------------------------------------------------------


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


def delivery_replay(*, delivery_id: UUID) -> WebhookDelivery:
    """Send a failed, dead or cancelled delivery again, with a fresh retry schedule. Earlier
    attempts stay recorded. Refuses while the endpoint is disabled."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint").get(pk=delivery_id)
        )
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
