"""Webhook endpoint use cases: create, change, delete, rotate the secret, send a test, disable."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.errors import DomainError, FieldErrors, ValidationFailed
from apps.core.logging import get_logger
from apps.core.request_context import get_request_id
from apps.core.unset import UNSET, Unset, given
from apps.events.envelope import EventEnvelope
from apps.webhooks.destinations import resolve_destination
from apps.webhooks.errors import WebhookEndpointInactive
from apps.webhooks.models import (
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.webhooks.permissions import CHANGE, DELETE, ensure_can_create_endpoint
from apps.webhooks.selectors import endpoint_get
from apps.webhooks.services.common import _cancel_pending_deliveries, _deliveries_create
from apps.webhooks.signing import new_secret

log = get_logger(__name__)


TEST_EVENT_TYPE = "webhooks.endpoint.test"


EVENT_TYPE_PATTERN = re.compile(r"^(\*|[a-z0-9_]+)(\.(\*|[a-z0-9_]+))*$")


MAX_EVENT_TYPES = 50


def endpoint_create(
    *, actor: Actor, url: str, event_types: list[str], description: str = "", is_active: bool = True
) -> WebhookEndpoint:
    """Create an endpoint owned by the caller's organization (staff) or partner (partner users).

    Refuses URLs that resolve to private, link-local or loopback addresses (400 on `url`).
    The response of the caller is the only time the secret is shown.
    """
    owner = ensure_can_create_endpoint(actor)
    # Both fields checked before answering, so a refusal lists every bad field at once.
    found = FieldErrors()
    patterns = found.run(lambda: clean_event_types(event_types))
    found.run(lambda: resolve_destination(url))  # DNS before the transaction
    found.raise_if_any(lambda errors: ValidationFailed(errors=errors))
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


def endpoint_update(
    *,
    actor: Actor,
    endpoint_id: UUID,
    url: str | Unset = UNSET,
    event_types: Iterable[str] | Unset = UNSET,
    description: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> WebhookEndpoint:
    """Change url, event types, description or active (what is left UNSET stays). Disabling
    cancels the endpoint's pending deliveries (they can be replayed once it is enabled again); a
    new URL is checked like on create."""
    changes = given(url=url, event_types=event_types, description=description, is_active=is_active)
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


def endpoint_delete(*, actor: Actor, endpoint_id: UUID) -> None:
    """Delete an endpoint with its deliveries and their attempts."""
    with transaction.atomic():
        endpoint = endpoint_get(user=actor, endpoint_id=endpoint_id, action=DELETE, lock=True)
        endpoint.delete()


def endpoint_rotate_secret(*, actor: Actor, endpoint_id: UUID) -> WebhookEndpoint:
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


def endpoint_send_test(*, actor: Actor, endpoint_id: UUID) -> WebhookDelivery:
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
