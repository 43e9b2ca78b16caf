"""Row locks of the events app. The relay claims rows with its own SKIP LOCKED statement
(relay.py); back-office changes to one event lock it here first."""

from __future__ import annotations

from uuid import UUID

from django.db import connection

from apps.events.models import OutboxEvent


def lock_event(event_id: UUID | str) -> OutboxEvent:
    """The event's row, locked until the transaction ends. Raises OutboxEvent.DoesNotExist."""
    return OutboxEvent.objects.select_for_update().get(pk=event_id)


def serial_lock_key(key: str) -> str:
    """The advisory lock key (text, hashed by hashtextextended) of a serial key: for a caller
    that takes it in one statement with its own locks after it (matching's runs)."""
    return f"events.serial:{key}"


def lock_serial(key: str) -> None:
    """The transaction-level lock of a serial key (registry.register_handler's `serial`), held
    until the transaction ends. Taking it again in the same transaction is free."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [serial_lock_key(key)])
