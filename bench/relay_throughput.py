"""relay_throughput: events/s through the real relay next to the raw claim-and-mark ceiling.

Both sides get the same number of pre-loaded PENDING events (one INSERT ... SELECT, positions
from `events_outbox_position_seq`, txid = pg_current_xact_id(), one aggregate per event):

- figure: `apps.events.relay.relay_until_idle(batch_size=100)` in this process, with only a
  no-op handler registered (the apps' handlers and sinks are unregistered for the duration),
  so it measures the relay's own bookkeeping: claim, load, per-handler savepoint and processed
  marker, record.
- baseline: a loop of the relay's claim SQL (`FOR UPDATE SKIP LOCKED`, batch 100, same lease)
  plus one UPDATE marking the batch DISPATCHED, each its own transaction: what the database alone allows.

Three rounds, each raw then relay on fresh rows, so drift on a shared machine
hits both sides of a pair; the ratio is the median of the rounds' ratios (figures: medians).
Target: ratio >= 0.3 at batch 100 (issue 15).

Undelivered events of others in the same database are fenced off (bench.common.fence_foreign_events:
a transaction holding their row locks) around each timed loop only, both sides alike: the fence
is closed before each VACUUM, so it never holds back the cleanup of earlier rounds.
"""

from __future__ import annotations

import statistics
from typing import Any

from django.conf import settings

from bench.common import (
    Stopwatch,
    delete_outbox_rows,
    execute,
    fence_foreign_events,
    fetchall,
    fetchone,
    insert_outbox_rows,
    isolated_registry,
    require,
    vacuum_outbox,
)

NAME = "relay_throughput"
BATCH = 100
TARGET_RATIO = 0.3
HANDLER_NAME = "bench.relay.noop"
# How many undelivered events of others each timed loop fenced off (issue 15: the fence is a
# transaction holding their row locks; it is opened around each timed loop only, never across a
# VACUUM, so it cannot keep the dead rows of earlier rounds alive for the whole run).
_FENCED: list[int] = []


def _noop(envelope: Any) -> None:
    return None


def raw_claim_and_mark(batch_size: int) -> int:
    """The database's ceiling: claim with the relay's SQL, then mark the batch dispatched."""
    from apps.events.relay import _CLAIM_SQL

    total = 0
    while True:  # two statements a batch, each its own transaction (autocommit)
        rows = fetchall(_CLAIM_SQL, [batch_size, settings.OUTBOX_CLAIM_LEASE_SECONDS])
        if not rows:
            return total
        ids = [row[0] for row in rows]
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


def _raw_round(events: int) -> float:
    """Seconds for the raw claim-and-mark loop over `events` fresh rows."""
    insert_outbox_rows(events, event_type="bench.relay.raw", aggregate_type="bench.relay", kind="raw")
    vacuum_outbox()
    try:
        with fence_foreign_events() as fenced:
            watch = Stopwatch()
            done = raw_claim_and_mark(BATCH)
            seconds = watch.elapsed
        _FENCED.append(fenced)
        require(done == events, f"raw loop claimed {done} of {events}")
        return seconds
    finally:
        delete_outbox_rows()
        vacuum_outbox()


def _relay_round(events: int) -> float:
    """Seconds for the real relay over `events` fresh rows, with a no-op handler only."""
    from apps.events.relay import relay_until_idle

    insert_outbox_rows(events, event_type="bench.relay.tick", aggregate_type="bench.relay", kind="relay")
    vacuum_outbox()
    try:
        with isolated_registry([("bench.relay.*", _noop, HANDLER_NAME)]), fence_foreign_events() as fenced:
            watch = Stopwatch()
            relayed = relay_until_idle(batch_size=BATCH, max_seconds=600)
            seconds = watch.elapsed
        _FENCED.append(fenced)
        left = _count_open("relay")
        markers = fetchone(
            "SELECT count(*) FROM events_handlerrun h JOIN events_outboxevent e ON e.id = h.event_id "
            "WHERE e.aggregate_type = 'bench.relay' AND h.handler = %s AND h.status = 'DONE'",
            [HANDLER_NAME],
        )
        require(relayed == events and left == 0, f"relay claimed {relayed} of {events}, {left} left")
        require(markers and markers[0] == events, f"{markers} processed markers for {events} events")
        return seconds
    finally:
        delete_outbox_rows()
        vacuum_outbox()


def run(*, quick: bool) -> dict[str, Any]:
    events = 5_000 if quick else 20_000
    rounds = 3
    raw_seconds: list[float] = []
    relay_seconds: list[float] = []
    _FENCED.clear()
    for _ in range(rounds):  # paired rounds: drift on a shared machine hits both sides of a pair
        raw_seconds.append(_raw_round(events))
        relay_seconds.append(_relay_round(events))
    fenced = max(_FENCED, default=0)

    relay_rates = [events / seconds for seconds in relay_seconds]
    raw_rates = [events / seconds for seconds in raw_seconds]
    ratios = [relay / raw for relay, raw in zip(relay_rates, raw_rates, strict=True)]
    value = statistics.median(ratios)
    return {
        "params": {
            "events": events,
            "batch_size": BATCH,
            "rounds": rounds,
            "handlers": 1,
            "sinks": 0,
            "fenced_foreign_events": fenced,
        },
        "figure": {
            "events_per_s": round(statistics.median(relay_rates), 1),
            "events_per_s_each_round": [round(rate, 1) for rate in relay_rates],
        },
        "baseline": {
            "what": "raw SQL: the relay's claim statement (FOR UPDATE SKIP LOCKED, returning ids) + one UPDATE "
            "marking the batch dispatched, each in autocommit",
            "events_per_s": round(statistics.median(raw_rates), 1),
            "events_per_s_each_round": [round(rate, 1) for rate in raw_rates],
        },
        "ratio": round(value, 4),
        "ratio_each_round": [round(r, 4) for r in ratios],
        "ratio_meaning": "median over paired rounds of relay events/s / raw claim-and-mark events/s (higher is better)",
        "target": {"ratio_min": TARGET_RATIO},
        "target_met": value >= TARGET_RATIO,
    }


def headline(result: dict[str, Any]) -> tuple[str, str, str]:
    return (
        f"{result['figure']['events_per_s']:,.0f} events/s",
        f"{result['baseline']['events_per_s']:,.0f} events/s raw",
        f"{result['ratio']:.3f} (>= {TARGET_RATIO})",
    )
