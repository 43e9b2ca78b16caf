"""Several relays draining the outbox at once (beat's sweeper overlapping on-commit hints on
several workers) hand every event to every handler exactly once, in per-aggregate order."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict

import pytest
from django.db import transaction

from apps.events.emit import emit
from apps.events.models import EventStatus, HandlerRun, HandlerRunStatus, OutboxEvent
from apps.events.relay import relay_until_idle

AGGREGATES = 60
EVENTS_PER_AGGREGATE = 5
RELAYS = 4


@pytest.mark.django_db(transaction=True)
def test_four_relays_at_once_deliver_every_event_once_per_handler_in_aggregate_order(handlers, run_concurrently):
    seen: list[tuple[str, str, str]] = []  # (handler, aggregate, event id), in the order handled
    lock = threading.Lock()

    def recorder(name: str):
        def handle(envelope) -> None:
            time.sleep(0.001)  # let the relays overlap
            with lock:
                seen.append((name, envelope.aggregate_id, envelope.id))

        return handle

    handlers("test.*", recorder("projector"), name="projector")
    handlers("*", recorder("auditor"), name="auditor")
    with transaction.atomic():  # interleaved: bale-0 #0, bale-1 #0, ..., bale-0 #1, ...
        for n in range(EVENTS_PER_AGGREGATE):
            for a in range(AGGREGATES):
                emit("test.bale.moved", aggregate_type="test.bale", aggregate_id=f"bale-{a}", payload={"n": n})
    events = list(OutboxEvent.objects.order_by("position").values_list("id", "aggregate_id"))
    assert len(events) == AGGREGATES * EVENTS_PER_AGGREGATE

    results = run_concurrently(lambda: relay_until_idle(max_seconds=60, batch_size=25), times=RELAYS)

    assert [r.error for r in results] == [None] * RELAYS
    assert len([r for r in results if r.value]) >= 2  # the relays really did overlap
    assert sum(r.value for r in results) == len(events)  # each event claimed exactly once
    deliveries = Counter((name, event_id) for name, _, event_id in seen)
    expected = {(name, str(event_id)) for event_id, _ in events for name in ("projector", "auditor")}
    assert set(deliveries) == expected
    assert [pair for pair, count in deliveries.items() if count != 1] == []
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {EventStatus.DISPATCHED}
    assert HandlerRun.objects.filter(status=HandlerRunStatus.DONE).count() == len(expected)
    in_position_order: dict[str, list[str]] = defaultdict(list)
    for event_id, aggregate_id in events:
        in_position_order[aggregate_id].append(str(event_id))
    for name in ("projector", "auditor"):
        handled: dict[str, list[str]] = defaultdict(list)
        for handler, aggregate_id, event_id in seen:
            if handler == name:
                handled[aggregate_id].append(event_id)
        assert handled == in_position_order
