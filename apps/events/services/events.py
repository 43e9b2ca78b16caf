"""Back-office operations on the outbox."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.events.errors import EventNotReplayable
from apps.events.locks import lock_event
from apps.events.models import EventStatus, HandlerRun, HandlerRunStatus, OutboxEvent
from apps.events.permissions import ensure_can_replay_event


def event_replay(*, actor: Actor, event_id: UUID | str) -> OutboxEvent:
    """Put a dead-lettered event back in the queue with fresh attempts. Handlers that already
    processed it keep their markers and are not run again.

    Locks: the event's row only (the relay skips locked rows, so it never waits on this)."""
    with transaction.atomic():
        event = lock_event(event_id)
        ensure_can_replay_event(actor, event)
        if event.status != EventStatus.DEAD:
            raise EventNotReplayable(f"Event {event.id} is {event.status}, not DEAD.")
        event.status = EventStatus.PENDING
        event.attempts = 0
        event.next_attempt_at = timezone.now()
        event.claimed_until = None
        event.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_until"])
        HandlerRun.objects.filter(event=event, status=HandlerRunStatus.DEAD).update(
            status=HandlerRunStatus.FAILED, attempts=0
        )
    transaction.on_commit(_hint)
    return event


def _hint() -> None:
    from apps.events.relay import request_relay_soon

    request_relay_soon()
