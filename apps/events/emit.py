"""emit(): write an event into the outbox, in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from apps.core.logging import get_logger
from apps.core.request_context import get_request_id
from apps.core.sql import insert_select, server_bound_cursor
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


# emit_many's one statement: the positions drawn from the sequence in a subquery and numbered in
# their order, joined to the events by their place in the list (WITH ORDINALITY), so positions
# increase in list order whatever order the database evaluates nextval() in. Every value comes
# as one array per column, bound on the server (`server_bound_cursor`) in binary (`%(...)b`: no
# text array escaping per element in Python): a handful of parameters for any number of events.
_EMIT_MANY_SQL = """
INSERT INTO events_outboxevent (
    id, position, txid, type, version, occurred_at, organization_id, partner_id, parties,
    aggregate_type, aggregate_id, actor_id, correlation_id, payload, status, attempts,
    next_attempt_at, last_error
)
SELECT e.id, p.position, pg_current_xact_id()::text::bigint, e.type, e.version, %(now)s,
       e.organization_id, e.partner_id, e.parties::uuid[], e.aggregate_type, e.aggregate_id,
       e.actor_id, %(correlation_id)s, e.payload::jsonb, %(status)s, 0, %(now)s, ''
FROM unnest(%(ids)b::uuid[], %(types)b::text[], %(versions)b::int[], %(organizations)b::uuid[],
            %(partners)b::uuid[], %(parties)b::text[], %(aggregate_types)b::text[],
            %(aggregate_ids)b::text[], %(actors)b::uuid[], %(payloads)b::text[])
     WITH ORDINALITY AS e(id, type, version, organization_id, partner_id, parties, aggregate_type,
                          aggregate_id, actor_id, payload, n)
JOIN (SELECT position, row_number() OVER (ORDER BY position) AS n
      FROM (SELECT nextval('events_outbox_position_seq') AS position
            FROM generate_series(1, %(count)s)) drawn) p ON p.n = e.n
RETURNING id, position, txid
"""


def emit_many(events: list[PendingEvent], *, instances: bool = True) -> list[OutboxEvent]:
    """emit() for many events at once, in the caller's transaction: one INSERT (positions from
    the same sequence, increasing in list order, and the transaction id drawn in it), one relay
    hint after commit. The same rows emit() would write one by one. Returns them as instances,
    or nothing with `instances=False` (a caller that writes thousands and reads none back: the
    instances cost more than the INSERT's parameters)."""
    if not connection.in_atomic_block:
        raise EmitOutsideTransaction("emit_many() must run inside transaction.atomic()")
    if not events:
        return []
    now = timezone.now()
    correlation_id = get_request_id() or ""
    ids = [uuid4() for _ in events]
    parties = [_parties(event.parties) for event in events]
    params: dict[str, Any] = {
        "now": now,
        "correlation_id": correlation_id,
        "status": EventStatus.PENDING.value,
        "count": len(events),
        "ids": ids,
        "types": [event.event_type for event in events],
        "versions": [event.version for event in events],
        "organizations": [_uuid(event.organization_id) for event in events],
        "partners": [_uuid(event.partner_id) for event in events],
        # uuid[] per row as its array text: unnest of a uuid[][] would flatten it.
        "parties": ["{" + ",".join(str(p) for p in party) + "}" for party in parties],
        "aggregate_types": [event.aggregate_type for event in events],
        "aggregate_ids": [str(event.aggregate_id) for event in events],
        "actors": [_uuid(event.actor_id) for event in events],
        # As the payload JSONField writes it (json.dumps, no encoder).
        "payloads": [json.dumps(event.payload) for event in events],
    }
    with server_bound_cursor() as cursor:
        cursor.execute(_EMIT_MANY_SQL, params)
        written = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
    transaction.on_commit(_hint_relay)
    rows: list[OutboxEvent] = []
    if not instances:
        return rows
    for event_id, event, party in zip(ids, events, parties, strict=True):
        position, txid = written[event_id]
        row = OutboxEvent(
            id=event_id,
            position=position,
            txid=txid,
            type=event.event_type,
            version=event.version,
            occurred_at=now,
            organization_id=_uuid(event.organization_id),
            partner_id=_uuid(event.partner_id),
            parties=party,
            aggregate_type=event.aggregate_type,
            aggregate_id=str(event.aggregate_id),
            actor_id=_uuid(event.actor_id),
            correlation_id=correlation_id,
            payload=event.payload,
            status=EventStatus.PENDING,
            next_attempt_at=now,
        )
        row._state.adding = False
        rows.append(row)
    return rows


def _uuid(value: UUID | str | None) -> UUID | None:
    return value if value is None or isinstance(value, UUID) else UUID(str(value))


def _hint_relay() -> None:
    from apps.events.relay import request_relay_soon

    request_relay_soon()
