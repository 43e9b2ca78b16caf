"""emit(): write an event into the outbox, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from apps.core.logging import get_logger
from apps.core.request_context import get_request_id
from apps.core.sql import insert_select
from apps.events.errors import EmitOutsideTransaction
from apps.events.models import EventStatus, OutboxEvent

log = get_logger(__name__)

POSITION_SEQUENCE = "events_outbox_position_seq"


def _id(value: Any) -> str | None:
    return str(value) if value is not None else None


def _parties(parties: Sequence[UUID | str]) -> list[UUID]:
    """Distinct, in the order given; None and empty ids dropped (a trade without a broker)."""
    seen: list[UUID] = []
    for party in parties:
        if party and UUID(str(party)) not in seen:
            seen.append(UUID(str(party)))
    return seen


def emit(
    event_type: str,
    *,
    aggregate: Model | None = None,
    aggregate_type: str | None = None,
    aggregate_id: str | UUID | None = None,
    organization_id: UUID | str | None = None,
    partner_id: UUID | str | None = None,
    parties: Sequence[UUID | str] = (),
    actor: Any = None,
    payload: dict[str, Any] | None = None,
    version: int = 1,
) -> OutboxEvent:
    """Insert an OutboxEvent in the current transaction and ask the relay to run after commit.

    Refuses to run outside `transaction.atomic()`: an event written in autocommit could exist
    for a change that later fails, or vanish for one that succeeded. With `aggregate=` the
    aggregate type, id and organization are taken from the model instance. `parties`: further
    partners the event concerns as much as `partner_id` (both sides of a trade); their feeds and
    webhooks get it too.
    """
    if not connection.in_atomic_block:
        raise EmitOutsideTransaction(f"emit({event_type!r}) must run inside transaction.atomic()")
    if aggregate is not None:
        aggregate_type = aggregate_type or aggregate._meta.label_lower
        aggregate_id = aggregate_id or aggregate.pk
        if organization_id is None:
            organization_id = getattr(aggregate, "organization_id", None)
    if not aggregate_type or aggregate_id is None:
        raise ValueError("emit() needs an aggregate or aggregate_type and aggregate_id")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval('{POSITION_SEQUENCE}'), pg_current_xact_id()::text::bigint")
        position, txid = cursor.fetchone()
    now = timezone.now()
    event = OutboxEvent.objects.create(
        position=position,
        txid=txid,
        type=event_type,
        version=version,
        occurred_at=now,
        organization_id=organization_id,
        partner_id=partner_id,
        parties=_parties(parties),
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        actor_id=getattr(actor, "pk", actor),
        correlation_id=get_request_id() or "",
        payload=payload or {},
        status=EventStatus.PENDING,
        next_attempt_at=now,
    )
    transaction.on_commit(_hint_relay)
    return event


def emit_in_statement(
    event_type: str,
    *,
    source: str,
    aggregate_type: str,
    aggregate_id: str | UUID,
    organization_id: UUID | str | None = None,
    partner_id: UUID | str | None = None,
    actor: Any = None,
    payload: dict[str, Any] | None = None,
    payload_sql: tuple[str, Sequence[Any]] | None = None,
    version: int = 1,
) -> tuple[str, list[Any]]:
    """emit() as one step of the caller's own statement: the SQL and params of `INSERT INTO
    events_outboxevent ... SELECT ... FROM <source>`, writing the row emit() writes (position
    from the same sequence, the writing transaction's id), one per row of `source`, a CTE of the
    caller's statement (none when its change matched nothing). `payload_sql`, SQL of a jsonb
    object over `source`'s columns, is merged over `payload`: the values the statement decides.

    For a change that must hold its row lock only inside one statement (reservations, issue
    15): the change and its event are one statement, so they commit together even in
    autocommit, and emit()'s refusal outside a transaction does not apply. Call
    `emitted_in_statement()` once the statement wrote the event."""
    now = timezone.now()
    event = OutboxEvent(
        type=event_type,
        version=version,
        occurred_at=now,
        organization_id=organization_id,
        partner_id=partner_id,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        actor_id=getattr(actor, "pk", actor),
        correlation_id=get_request_id() or "",
        payload=payload or {},
        status=EventStatus.PENDING,
        next_attempt_at=now,
    )
    expressions: dict[str, tuple[str, Sequence[Any]]] = {
        "position": (f"nextval('{POSITION_SEQUENCE}')", []),
        "txid": ("pg_current_xact_id()::text::bigint", []),
    }
    if payload_sql is not None:
        merge, merge_params = payload_sql
        # The payload as the ORM would write it (its JSONField's own adaptation), then merged.
        prepared = OutboxEvent._meta.get_field("payload").get_db_prep_save(event.payload, connection=connection)
        expressions["payload"] = (f"%s::jsonb || ({merge})", [prepared, *merge_params])
    return insert_select(event, source=source, expressions=expressions)


def emitted_in_statement() -> None:
    """After a statement of `emit_in_statement` wrote its event: the relay hint emit() asks for
    (after commit; at once in autocommit, where the statement has committed)."""
    transaction.on_commit(_hint_relay)


@dataclass(frozen=True)
class PendingEvent:
    """One event for `emit_many` (emit()'s arguments, the aggregate given by type and id)."""

    event_type: str
    aggregate_type: str
    aggregate_id: str | UUID
    organization_id: UUID | str | None = None
    partner_id: UUID | str | None = None
    parties: tuple[UUID | str, ...] = ()
    actor_id: UUID | str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    version: int = 1


def emit_many(events: list[PendingEvent]) -> list[OutboxEvent]:
    """emit() for many events at once, in the caller's transaction: their positions in one query
    (increasing in list order), the rows in one INSERT, one relay hint after commit. The same
    rows emit() would write one by one."""
    if not connection.in_atomic_block:
        raise EmitOutsideTransaction("emit_many() must run inside transaction.atomic()")
    if not events:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(%s), pg_current_xact_id()::text::bigint FROM generate_series(1, %s)",
            [POSITION_SEQUENCE, len(events)],
        )
        fetched = cursor.fetchall()
    positions = sorted(position for position, _ in fetched)
    txid = fetched[0][1]
    now = timezone.now()
    correlation_id = get_request_id() or ""
    rows = [
        OutboxEvent(
            position=position,
            txid=txid,
            type=event.event_type,
            version=event.version,
            occurred_at=now,
            organization_id=event.organization_id,
            partner_id=event.partner_id,
            parties=_parties(event.parties),
            aggregate_type=event.aggregate_type,
            aggregate_id=str(event.aggregate_id),
            actor_id=event.actor_id,
            correlation_id=correlation_id,
            payload=event.payload,
            status=EventStatus.PENDING,
            next_attempt_at=now,
        )
        for position, event in zip(positions, events, strict=True)
    ]
    OutboxEvent.objects.bulk_create(rows)
    transaction.on_commit(_hint_relay)
    return rows


def _hint_relay() -> None:
    from apps.events.relay import request_relay_soon

    request_relay_soon()
