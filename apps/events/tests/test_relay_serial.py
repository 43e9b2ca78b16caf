"""Handlers that share a serial key run in one relay worker at a time (registry.register_handler's
`serial`): two workers relaying at once run them one after the other, and a worker waiting for
the key holds no lock of an earlier handler of its batch. Real threads, each its own connection."""

from __future__ import annotations

import threading
import time

import pytest

from apps.events.models import EventStatus, OutboxEvent
from apps.events.relay import relay_batch
from apps.events.tests.conftest import emit_committed
from apps.organizations.models import Organization

pytestmark = pytest.mark.django_db(transaction=True)

HOLD_SECONDS = 0.4


class Spans:
    """When each call of a handler ran, by event."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: dict[str, tuple[float, float]] = {}

    def slow(self, envelope) -> None:
        started = time.monotonic()
        time.sleep(HOLD_SECONDS)
        with self.lock:
            self.spans[envelope.id] = (started, time.monotonic())

    def overlap(self) -> bool:
        (_, first_end), (second_start, _) = sorted(self.spans.values())
        return second_start < first_end


@pytest.mark.parametrize(("serial", "overlapping"), [("slow", False), (None, True)])
def test_handlers_of_one_serial_key_never_run_at_once_in_two_workers(handlers, run_concurrently, serial, overlapping):
    spans = Spans()
    handlers("test.slow.*", spans.slow, name="slow", serial=serial)
    events = [emit_committed("test.slow.moved", aggregate_id=str(n)) for n in range(2)]

    results = run_concurrently(lambda: relay_batch(1), times=2)

    assert [r.error for r in results if r.error] == []
    assert sorted(r.value.delivered for r in results) == [1, 1]
    assert set(spans.spans) == {str(e.id) for e in events}
    # Without the key the two calls run side by side: the test would see it.
    assert spans.overlap() is overlapping
    assert OutboxEvent.objects.filter(status=EventStatus.DISPATCHED).count() == 2


def test_a_worker_takes_the_key_before_its_first_handler_so_it_waits_holding_nothing(handlers, run_concurrently):
    """Worker A's batch: a plain handler that writes a row, then the serial one. If A took the key
    only when it reached the serial handler, it would wait for it while holding its row; here it
    waits before writing anything, and the key's holder may touch the same row meanwhile."""
    order: list[str] = []
    holder_started = threading.Event()

    def write_row(envelope) -> None:
        Organization.objects.update_or_create(code="SERIAL", defaults={"name": f"written by {envelope.aggregate_id}"})
        order.append(f"row:{envelope.aggregate_id}")

    def keyed(envelope) -> None:
        order.append(f"keyed:{envelope.aggregate_id}")
        if envelope.aggregate_id == "holder":
            holder_started.set()
            time.sleep(HOLD_SECONDS)
            # The holder needs the row the other worker's plain handler would have written.
            Organization.objects.update_or_create(code="SERIAL", defaults={"name": "written by the key holder"})

    handlers("test.plain.*", write_row, name="plain")
    handlers("test.keyed.*", keyed, name="keyed", serial="shared")
    emit_committed("test.keyed.moved", aggregate_id="holder")
    # Two aggregates: the relay holds an aggregate's later event until its earlier one is delivered.
    emit_committed("test.plain.moved", aggregate_id="waiter-row")
    emit_committed("test.keyed.moved", aggregate_id="waiter-key")

    def holder():
        return relay_batch(1)  # the first event: the holder's keyed handler

    def waiter():
        holder_started.wait(timeout=10)
        return relay_batch(2)  # the waiter's plain handler, then its keyed one

    roles = iter([holder, waiter])  # next() on it is atomic under the GIL: one role per thread
    results = run_concurrently(lambda: next(roles)(), times=2)

    assert [r.error for r in results if r.error] == []
    assert sum(r.value.delivered for r in results) == 3
    assert sum(r.value.failed for r in results) == 0  # no deadlock victim
    # The waiter ran nothing (not even its plain handler) until the holder's batch committed.
    assert order == ["keyed:holder", "row:waiter-row", "keyed:waiter-key"]
    assert Organization.objects.get(code="SERIAL").name == "written by waiter-row"
