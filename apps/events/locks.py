"""Row locks of the events app. The relay claims rows with its own SKIP LOCKED statement
(relay.py); back-office changes to one event lock it here first."""

from __future__ import annotations

from uuid import UUID

from apps.events.models import OutboxEvent


def lock_event(event_id: UUID | str) -> OutboxEvent:
    """The event's row, locked until the transaction ends. Raises OutboxEvent.DoesNotExist."""
    return OutboxEvent.objects.select_for_update().get(pk=event_id)
