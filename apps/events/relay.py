"""The relay: claim due events, dispatch them, record the outcome.

1. Claim (one statement, its own short transaction): `FOR UPDATE SKIP LOCKED` picks due events
   whose aggregate has no earlier undelivered event, and stamps a lease (`claimed_until`) so a
   second relay skips them after it commits; it returns the rows and the handlers already done
   with them. A relay killed mid-batch only delays its events until the lease runs out.
2. Handlers (one transaction per batch): each handler call runs in its own savepoint; the
   processed markers (HandlerRun DONE) of the calls that succeeded are written by one INSERT
   before the batch commits, so they commit with those calls' writes or not at all. A batch costs
   one commit, not one per event, and a handler call one round trip of bookkeeping (constraint
   check, savepoints).
3. Sinks (no transaction): websocket fan-out and other side effects outside the database.
4. Record (short transaction): one UPDATE for the delivered events; failures get exponential
   backoff with jitter, and after the last attempt the event (and the failing handler's run) is
   dead-lettered.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import random
import traceback
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import Error, connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.logging import get_logger
from apps.events import registry
from apps.events.envelope import EventEnvelope
from apps.events.locks import lock_serial
from apps.events.models import EventStatus, HandlerRun, HandlerRunStatus, OutboxEvent

log = get_logger(__name__)

_CLAIM_SQL = """
WITH due AS (
    SELECT e.id
    FROM events_outboxevent e
    WHERE e.status IN ('PENDING', 'FAILED')
      AND e.next_attempt_at <= now()
      AND (e.claimed_until IS NULL OR e.claimed_until < now())
      AND NOT EXISTS (
          SELECT 1 FROM events_outboxevent p
          WHERE p.aggregate_type = e.aggregate_type
            AND p.aggregate_id = e.aggregate_id
            AND p.position < e.position
            AND p.status IN ('PENDING', 'FAILED')
      )
    ORDER BY e.position
    LIMIT %s
    FOR UPDATE OF e SKIP LOCKED
)
UPDATE events_outboxevent o
SET claimed_until = now() + make_interval(secs => %s)
FROM due
WHERE o.id = due.id
RETURNING o.id
"""
# The relay's claim returns whole rows and the handlers already done with each event (a
# redelivery): claiming and loading a batch is one statement.
_CLAIM_ROWS_SQL = _CLAIM_SQL.replace(
    "RETURNING o.id",
    "RETURNING o.*, ARRAY(SELECT h.handler FROM events_handlerrun h WHERE h.event_id = o.id AND h.status = 'DONE') "
    "AS done_handlers",
)


@dataclass
class BatchResult:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    errors: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: base * 2^(attempt-1), capped, times a factor in [0.5, 1.5)."""
    base = settings.OUTBOX_RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0))
    return min(base, settings.OUTBOX_RETRY_MAX_SECONDS) * random.uniform(0.5, 1.5)  # noqa: S311 (jitter, not crypto)


def claim_batch(batch_size: int) -> list[OutboxEvent]:
    """Claim due events and load them, each with `done_handlers` (names of its DONE handler
    runs). One statement, atomic on its own: its row locks last until it commits."""
    events = list(OutboxEvent.objects.raw(_CLAIM_ROWS_SQL, [batch_size, settings.OUTBOX_CLAIM_LEASE_SECONDS]))
    return sorted(events, key=lambda event: event.position)


def _run_handlers(
    envelopes: list[EventEnvelope], done: set[tuple[str, str]] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """Run every pending handler of every event; returns {event id: [(handler, error)]}.
    `done`: the (event id, handler) pairs processed on an earlier delivery, read here if None."""
    failures: dict[str, list[tuple[str, str]]] = defaultdict(list)
    wanted = {env.id: registry.handlers_for(env.type) for env in envelopes}
    if not any(wanted.values()):
        return failures
    if done is None:
        done = {
            (str(event_id), name)
            for event_id, name in HandlerRun.objects.filter(
                event_id__in=list(wanted), status=HandlerRunStatus.DONE
            ).values_list("event_id", "handler")
        }
    calls = [
        (env, handler)
        for env in envelopes
        for handler in wanted[env.id]
        if (env.id, handler.name) not in done  # else processed on an earlier delivery
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        # Serial keys first, in one order, before any handler has locked anything (registry).
        for key in sorted({handler.serial for _, handler in calls if handler.serial}):
            lock_serial(key)
        savepoints = _HandlerSavepoints(cursor, len(calls))
        for env, handler in calls:
            try:
                savepoints.run(handler, env)
            except Exception as exc:  # a handler's failure is recorded, never lost
                failures[env.id].append((handler.name, _describe(exc)))
        if savepoints.done and not connection.needs_rollback:  # (else the batch rolls back whole)
            # The processed markers of the calls that succeeded, in the batch's transaction: they
            # commit with those calls' writes or not at all, as they did one per savepoint.
            cursor.execute(_mark_done_sql(savepoints.done))
    return failures


class _HandlerSavepoints:
    """Each handler call of a batch in its own transaction (a savepoint), as `transaction.atomic()`
    around the call would do, in one round trip per call instead of four: the statements that
    check the constraints and release a call's savepoint also open the next call's savepoint.
    Round trips are what the relay spends its time on (bench/relay_throughput.py). The calls that
    succeeded are kept in `done`; their processed markers are written together at the end of the
    batch's transaction (one INSERT of a row per call cost as much as the rest of its round trip,
    issue 15), so they still commit with the calls' writes or not at all.

    The savepoint is on `connection.savepoint_ids` while the handler runs, as atomic() puts it
    there: the handler's on_commit callbacks belong to it (and are dropped if it rolls back), and
    an atomic() inside the handler nests in it.
    """

    def __init__(self, cursor: Any, calls: int) -> None:
        self.cursor = cursor
        self.remaining = calls
        self.ahead: str | None = None  # the savepoint opened ahead for the next call
        self.done: list[tuple[str, str]] = []  # (event id, handler) of the calls that succeeded

    def run(self, handler: registry.RegisteredHandler, env: EventEnvelope) -> None:
        """Call the handler; raise what it (or the constraint check) raised, rolled back."""
        ops = connection.ops
        sid, self.ahead = self.ahead, None
        if sid is None:
            sid = _new_savepoint_id()
            self.cursor.execute(ops.savepoint_create_sql(sid))
        self.remaining -= 1
        ahead = _new_savepoint_id() if self.remaining > 0 else None
        connection.savepoint_ids.append(sid)
        try:
            handler.fn(env)
            statements = [_CHECK_CONSTRAINTS, ops.savepoint_commit_sql(sid)]
            if ahead is not None:
                statements.append(ops.savepoint_create_sql(ahead))
            self.cursor.execute("; ".join(statements))  # no parameters: one simple query
            self.ahead = ahead
            self.done.append((env.id, handler.name))
        except BaseException:
            connection.needs_rollback = False  # set by a broken atomic(savepoint=False) in the handler
            try:
                connection.savepoint_rollback(sid)  # also drops the handler's on_commit callbacks
                connection.savepoint_commit(sid)
            except Error:
                connection.needs_rollback = True  # as atomic(): the batch transaction rolls back
            raise
        finally:
            connection.savepoint_ids.pop()


_savepoint_numbers = itertools.count(1)


def _new_savepoint_id() -> str:
    return f"relay_h{next(_savepoint_numbers)}"


# Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checking them before a call's
# savepoint is released makes a violation fail that handler only, not the whole batch at commit
# (again, on every redelivery).
_CHECK_CONSTRAINTS = "SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED"


def _mark_done_sql(done: list[tuple[str, str]]) -> str:
    """The processed markers of handler calls (event id, handler name): a DONE row each, or an
    earlier FAILED/DEAD one turned DONE (attempts kept). SQL text without parameters (an event id
    is a UUID's text, a name is quoted by the driver); each pair once in a batch."""
    values = ", ".join(
        f"('{uuid.UUID(event_id)}'::uuid, {_quoted(handler)}, {_MARK_DONE_ROW})" for event_id, handler in done
    )
    return f"{_MARK_DONE_HEAD}{values}{_MARK_DONE_TAIL}"


_MARK_DONE_HEAD = "INSERT INTO events_handlerrun (event_id, handler, status, attempts, last_error, updated_at) VALUES "
_MARK_DONE_ROW = "'DONE', 0, '', clock_timestamp()"
_MARK_DONE_TAIL = (
    " ON CONFLICT (event_id, handler) DO UPDATE SET "
    "status = EXCLUDED.status, last_error = EXCLUDED.last_error, updated_at = EXCLUDED.updated_at"
)


@functools.lru_cache(maxsize=1024)
def _quoted(value: str) -> str:
    """A string literal, quoted by the database driver (handler names: a few, cached)."""
    return str(connection.ops.compose_sql("%s", [value]))  # type: ignore[attr-defined]  # PostgreSQL's ops


def _run_sinks(envelopes: list[EventEnvelope], skip: set[str]) -> dict[str, list[tuple[str, str]]]:
    failures: dict[str, list[tuple[str, str]]] = defaultdict(list)
    deliverable = [env for env in envelopes if env.id not in skip]
    if not deliverable:
        return failures
    for name, sink in registry.sinks():
        try:
            sink(deliverable)
        except Exception as exc:  # retried with the event; sinks tolerate duplicates
            for env in deliverable:
                failures[env.id].append((f"sink:{name}", _describe(exc)))
    return failures


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]


def _record(events: list[OutboxEvent], failures: dict[str, list[tuple[str, str]]]) -> BatchResult:
    now = timezone.now()
    result = BatchResult(claimed=len(events), errors=dict(failures))
    delivered_ids = [e.id for e in events if str(e.id) not in failures]
    # Without failures the record is one UPDATE, atomic on its own: no transaction to open.
    with transaction.atomic() if failures else contextlib.nullcontext():
        if delivered_ids:
            OutboxEvent.objects.filter(id__in=delivered_ids).update(
                status=EventStatus.DISPATCHED, dispatched_at=now, claimed_until=None, last_error=""
            )
            result.delivered = len(delivered_ids)
        for event in events:
            errors = failures.get(str(event.id))
            if not errors:
                continue
            attempts = event.attempts + 1
            dead = attempts >= settings.OUTBOX_MAX_ATTEMPTS
            message = "\n".join(f"{name}: {error}" for name, error in errors)
            OutboxEvent.objects.filter(id=event.id).update(
                status=EventStatus.DEAD if dead else EventStatus.FAILED,
                attempts=attempts,
                next_attempt_at=now + timedelta(seconds=backoff_seconds(attempts)),
                claimed_until=None,
                last_error=message,
            )
            for name, error in errors:
                if name.startswith("sink:"):
                    continue
                run, _ = HandlerRun.objects.get_or_create(
                    event_id=event.id, handler=name, defaults={"status": HandlerRunStatus.FAILED}
                )
                HandlerRun.objects.filter(pk=run.pk).update(
                    status=HandlerRunStatus.DEAD if dead else HandlerRunStatus.FAILED,
                    attempts=F("attempts") + 1,
                    last_error=error,
                )
            if dead:
                result.dead += 1
                log.error("events.dead_lettered", **_failure_fields(event, attempts, errors))
            else:
                result.failed += 1
                log.warning("events.dispatch_failed", **_failure_fields(event, attempts, errors))
    return result


def _failure_fields(event: OutboxEvent, attempts: int, errors: list[tuple[str, str]]) -> dict[str, Any]:
    """What the log says of a failed delivery: which handlers failed and with which exception
    class (the message may quote data; it stays in last_error, shown to the back office)."""
    return {
        "event_id": str(event.id),
        "type": event.type,
        "attempts": attempts,
        "failed": [f"{name}: {error.split(':', 1)[0]}" for name, error in errors],
    }


def relay_batch(batch_size: int | None = None) -> BatchResult:
    """Claim, dispatch and record one batch. Returns what happened."""
    events = claim_batch(batch_size or settings.OUTBOX_BATCH_SIZE)
    if not events:
        return BatchResult()
    envelopes = [EventEnvelope.from_row(e) for e in events]
    done = {(str(e.id), name) for e in events for name in getattr(e, "done_handlers", None) or ()}
    failures = _run_handlers(envelopes, done)
    for event_id, errors in _run_sinks(envelopes, skip=set(failures)).items():
        failures.setdefault(event_id, []).extend(errors)
    return _record(events, failures)


def relay_until_idle(*, max_seconds: float | None = None, batch_size: int | None = None) -> int:
    """Drain due events batch after batch, for at most `max_seconds`. Returns events claimed."""
    import time

    deadline = time.monotonic() + (max_seconds if max_seconds is not None else settings.OUTBOX_RELAY_MAX_SECONDS)
    total = 0
    while time.monotonic() < deadline:
        result = relay_batch(batch_size)
        total += result.claimed
        if result.claimed == 0:
            break
    return total


def request_relay_soon() -> None:
    """The on-commit hint: enqueue a relay run unless one was asked for in the last moment.

    Never raises: if the broker is down the beat sweeper still finds the event.
    """
    from apps.core.redis import get_redis
    from apps.events.tasks import relay_outbox

    try:
        if get_redis().set("cotton:events:relay-hint", "1", nx=True, px=settings.OUTBOX_HINT_DEBOUNCE_MS):
            relay_outbox.apply_async()
    except Exception as exc:  # the sweeper is the safety net
        log.warning("events.relay_hint_failed", error=type(exc).__name__)
