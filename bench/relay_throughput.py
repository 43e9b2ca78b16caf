"""relay_throughput: events/s through the real relay next to the raw claim-and-mark ceiling.

Both sides get the same number of pre-loaded PENDING events (one INSERT ... SELECT, positions
from `events_outbox_position_seq`, txid = pg_current_xact_id(), one aggregate per event):

- figure: `apps.events.relay.relay_until_idle(batch_size=100)` in this process, with only a
  no-op handler registered (the apps' handlers and sinks are unregistered for the duration),
  so it measures the relay's own bookkeeping: claim, load, per-handler savepoint and processed
  marker, record.
- baseline: a loop of the relay's claim SQL (`FOR UPDATE SKIP LOCKED`, batch 100, same lease)
  in a transaction plus one UPDATE marking the batch DISPATCHED: what the database alone allows.

ratio = relay / raw; target >= 0.25 at batch 100.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from bench.common import (
    Stopwatch,
    delete_outbox_rows,
    execute,
    fence_foreign_events,
    fetchall,
    fetchone,
    insert_outbox_rows,
    isolated_registry,
    vacuum_outbox,
)

NAME = "relay_throughput"
BATCH = 100
TARGET_RATIO = 0.25
HANDLER_NAME = "bench.relay.noop"


def _noop(envelope: Any) -> None:
    return None


def raw_claim_and_mark(batch_size: int) -> int:
    """The database's ceiling: claim with the relay's SQL, then mark the batch dispatched."""
    from apps.events.relay import _CLAIM_SQL

    total = 0
    while True:
        with transaction.atomic():
            rows = fetchall(_CLAIM_SQL, [batch_size, settings.OUTBOX_CLAIM_LEASE_SECONDS])
        if not rows:
            return total
        ids = [row[0] for row in rows]
        with transaction.atomic():
            execute(
                "UPDATE events_outboxevent SET status = 'DISPATCHED', dispatched_at = now(), "
                "claimed_until = NULL, last_error = '' WHERE id = ANY(%s)",
                [ids],
            )
        total += len(ids)


def _count_open(kind: str) -> int:
    from bench.common import RUN_TAG

    row = fetchone(
        "SELECT count(*) FROM events_outboxevent WHERE aggregate_type = 'bench.relay' "
        "AND aggregate_id LIKE %s AND status IN ('PENDING', 'FAILED')",
        [f"{RUN_TAG}-{kind}-%"],
    )
    return int(row[0]) if row else 0


def run(*, quick: bool) -> dict[str, Any]:
    from apps.events.relay import relay_until_idle

    events = 5_000 if quick else 20_000
    try:
        with fence_foreign_events() as fenced:
            # Baseline first, on its own rows.
            insert_outbox_rows(events, event_type="bench.relay.raw", aggregate_type="bench.relay", kind="raw")
            vacuum_outbox()
            watch = Stopwatch()
            raw_done = raw_claim_and_mark(BATCH)
            raw_seconds = watch.elapsed
            assert raw_done == events, f"raw loop claimed {raw_done} of {events}"
            delete_outbox_rows()
            vacuum_outbox()

            # The real relay on fresh rows.
            insert_outbox_rows(events, event_type="bench.relay.tick", aggregate_type="bench.relay", kind="relay")
            vacuum_outbox()
            with isolated_registry([("bench.relay.*", _noop, HANDLER_NAME)]):
                watch = Stopwatch()
                relayed = relay_until_idle(batch_size=BATCH, max_seconds=600)
                relay_seconds = watch.elapsed
            left = _count_open("relay")
            markers = fetchone(
                "SELECT count(*) FROM events_handlerrun h JOIN events_outboxevent e ON e.id = h.event_id "
                "WHERE e.aggregate_type = 'bench.relay' AND h.handler = %s AND h.status = 'DONE'",
                [HANDLER_NAME],
            )
            assert relayed == events and left == 0, f"relay claimed {relayed} of {events}, {left} left"
            assert markers and markers[0] == events, f"{markers} processed markers for {events} events"
    finally:
        delete_outbox_rows()
        vacuum_outbox()

    relay_rate = events / relay_seconds
    raw_rate = events / raw_seconds
    value = relay_rate / raw_rate
    return {
        "params": {"events": events, "batch_size": BATCH, "handlers": 1, "sinks": 0, "fenced_foreign_events": fenced},
        "figure": {"events_per_s": round(relay_rate, 1), "seconds": round(relay_seconds, 3)},
        "baseline": {
            "what": "raw SQL: relay claim (FOR UPDATE SKIP LOCKED) + one UPDATE marking the batch dispatched",
            "events_per_s": round(raw_rate, 1),
            "seconds": round(raw_seconds, 3),
        },
        "ratio": round(value, 4),
        "ratio_meaning": "relay events/s / raw claim-and-mark events/s (higher is better)",
        "target": {"ratio_min": TARGET_RATIO},
        "target_met": value >= TARGET_RATIO,
    }
