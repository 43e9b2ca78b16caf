"""latency: commit-to-handler and commit-to-websocket, with the on-commit hint and with beat alone.

A real Celery worker (`celery -A cotton_erp worker --pool solo`, started here with this process's
environment) runs the relay, with every handler and sink of the apps plus `bench/handlers.py`
(through COTTON_EXTRA_HANDLER_MODULES), which writes `clock_timestamp()` into `bench_latency`.
This process emits events one per transaction at a steady pace (`emit()` in
`transaction.atomic()`, the commit time taken right after the block) for an organization of its
own, and listens to that organization's staff group `org.<id>` on the channel layer (a fresh
channel joined with `group_add`, what a staff socket joins), timing each event frame's arrival.

(a) hint: emit() queues the relay task on commit, as in production.
(b) beat alone: `apps.events.relay.request_relay_soon` is replaced by a no-op in this process
    only, and a thread calls `relay_outbox.delay()` every 2 s, as beat's schedule would (a thread
    rather than a `celery beat` process: same task, same queue, no schedule rows to manage; its
    first tick falls at a random moment of the first 2 s). A sweep drains batch after batch until
    a claim finds nothing (`relay_until_idle`): when the worker is slower than the stream (a busy
    machine) one sweep keeps streaming, else each event waits for the next sweep (0 to 2 s).
(c) beat alone with sparse traffic, one event every 250 ms (50, 16 with --quick): the relay goes
    idle between events, so each waits for the next sweep.

Before each phase the broker queue is drained, so no relay task of an earlier phase runs in it.

Baselines measured in the same run: a `SELECT 1` round trip (handler path) and a Redis PUBLISH
to a subscriber on the channel layer's Redis (websocket path). Ratio = figure / baseline (lower
is better). Target: commit-to-handler p50 under 100 ms with the hint.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

from bench.common import (
    REPO,
    RUN_TAG,
    BenchmarkFailed,
    create_organization,
    delete_organizations_and_users,
    delete_outbox_rows,
    execute,
    fence_foreign_events,
    fetchall,
    fetchone,
    summary_ms,
    tagged,
)
from bench.handlers import TABLE

NAME = "latency"
PACE_SECONDS = 0.005
BEAT_SECONDS = 2.0
SPARSE_PACE_SECONDS = 0.25
TARGET_HANDLER_P50_MS = 100.0
EVENT_TYPE = "bench.latency.ping"


# --- The worker -------------------------------------------------------------------------------


@contextlib.contextmanager
def celery_worker(log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cotton_erp.settings",
        "COTTON_EXTRA_HANDLER_MODULES": "bench.handlers",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "celery", "-A", "cotton_erp", "worker", "--pool", "solo", "-Q", "celery"]
    command += ["--without-gossip", "--without-mingle", "-l", "WARNING", "--hostname", f"bench-{RUN_TAG}@%h"]
    with log_path.open("wb") as log:
        worker = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield worker
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)  # warm shutdown: finishes the task it runs
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(timeout=10)


def _broker_queue_length() -> int:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        return int(client.llen("celery"))
    finally:
        client.close()


# --- The websocket side: a channel in the staff group ------------------------------------------


class GroupListener:
    """A channel joined to `group` on the channel layer, in its own thread and event loop;
    records the arrival time of every event frame by event id."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.arrivals: dict[str, float] = {}
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)
        self.channel = ""
        self.layer: Any = None
        self.error: BaseException | None = None
        self.receive_errors: list[str] = []

    async def _main(self) -> None:
        from channels.layers import get_channel_layer

        try:
            self.layer = get_channel_layer()
            self.channel = await self.layer.new_channel("bench.")
            await self.layer.group_add(self.group, self.channel)
            self.ready.set()
            while True:
                try:
                    message = await self.layer.receive(self.channel)
                except Exception as exc:  # a Redis read timing out on a loaded machine: receive again
                    self.receive_errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    await asyncio.sleep(0.01)
                    continue
                if message.get("type") == "bench.stop":
                    break
                if message.get("type") == "event":
                    self.arrivals.setdefault(message["event"]["id"], time.time())
            await self.layer.group_discard(self.group, self.channel)
        except BaseException as exc:
            self.error = exc
            self.ready.set()
            raise

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(10) or self.error:
            raise RuntimeError(f"the channel-layer listener did not start: {self.error!r}")

    def stop(self) -> None:
        if self.thread.is_alive() and self.layer is not None:
            future = asyncio.run_coroutine_threadsafe(self.layer.send(self.channel, {"type": "bench.stop"}), self.loop)
            with contextlib.suppress(Exception):
                future.result(timeout=5)
            self.thread.join(timeout=10)


# --- Baselines ---------------------------------------------------------------------------------


def select_one_round_trips(samples: int) -> list[float]:
    from django.db import connection

    out = []
    with connection.cursor() as cursor:
        for _ in range(samples):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            out.append(time.perf_counter() - started)
    return out


def redis_publish_latencies(samples: int) -> list[float]:
    """PUBLISH (with the send time) to a subscriber thread on the channel layer's Redis."""
    url = settings.REDIS_CACHE_URL  # the channel layer's Redis
    channel = f"bench:{RUN_TAG}:publish"
    subscriber = redis.Redis.from_url(url)
    pubsub = subscriber.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    while pubsub.get_message(timeout=1.0) is not None:  # the subscribe confirmation, if any
        pass
    latencies: list[float] = []
    done = threading.Event()

    def listen() -> None:
        for message in pubsub.listen():
            if message["type"] != "message":
                continue
            arrived = time.time()
            if message["data"] == b"stop":
                break
            latencies.append(arrived - float(message["data"]))
        done.set()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    publisher = redis.Redis.from_url(url)
    try:
        for _ in range(samples):
            publisher.publish(channel, repr(time.time()))
            time.sleep(PACE_SECONDS / 5)
        publisher.publish(channel, "stop")
        done.wait(10)
    finally:
        pubsub.close()
        subscriber.close()
        publisher.close()
    return latencies


# --- One phase: emit at a steady pace, wait for every event at both ends -----------------------


def _emit_paced(count: int, organization_id: Any, phase: str, pace: float = PACE_SECONDS) -> dict[str, float]:
    from apps.events.emit import emit

    committed: dict[str, float] = {}
    started = time.perf_counter()
    for n in range(count):
        delay = started + n * pace - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with transaction.atomic():
            event = emit(
                EVENT_TYPE,
                aggregate_type="bench.latency",
                aggregate_id=tagged(phase, n),
                organization_id=organization_id,
                payload={"n": n, "phase": phase},
            )
        committed[str(event.id)] = time.time()
    return committed


def _handled_at(ids: list[str]) -> dict[str, float]:
    rows = fetchall(
        f"SELECT event_id::text, extract(epoch FROM handled_at)::float8 FROM {TABLE} WHERE event_id = ANY(%s::uuid[])",
        [ids],
    )
    return {str(event_id): float(at) for event_id, at in rows}


def _wait_for(
    ids: list[str], listener: GroupListener, worker: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        handled = fetchone(f"SELECT count(*) FROM {TABLE} WHERE event_id = ANY(%s::uuid[])", [ids])
        arrived = sum(1 for event_id in ids if event_id in listener.arrivals)
        if handled and handled[0] >= len(ids) and arrived >= len(ids):
            return
        if worker.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            statuses = fetchall(
                "SELECT status, count(*), max(last_error) FROM events_outboxevent WHERE id = ANY(%s::uuid[]) "
                "GROUP BY status",
                [ids],
            )
            raise BenchmarkFailed(
                f"{handled[0] if handled else 0} handled and {arrived} frames of {len(ids)} events "
                f"(outbox: {statuses}; listener alive {listener.thread.is_alive()}, error {listener.error!r}; "
                f"worker exit code {worker.poll()}); worker log:\n{tail}"
            )
        time.sleep(0.1)


def _drain_queue(timeout: float = 30) -> None:
    """Wait until the broker queue is empty, so no relay task of an earlier phase is left to
    run during the next one; then a moment for the worker to finish the one it holds."""
    deadline = time.monotonic() + timeout
    while _broker_queue_length() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)


def _phase(
    label: str,
    count: int,
    organization_id: Any,
    listener: GroupListener,
    worker: Any,
    log: Path,
    pace: float = PACE_SECONDS,
) -> dict[str, Any]:
    _drain_queue()
    started = time.perf_counter()
    committed = _emit_paced(count, organization_id, label, pace)
    emit_seconds = time.perf_counter() - started
    ids = list(committed)
    _wait_for(ids, listener, worker, log, timeout=60)
    handled = _handled_at(ids)
    to_handler = [handled[i] - committed[i] for i in ids]
    to_socket = [listener.arrivals[i] - committed[i] for i in ids]
    return {
        "events": count,
        "pace_ms": round(pace * 1000, 3),
        # What the emitter managed: each emit is a transaction of its own (and a hint), so on a
        # busy machine it may fall behind the pace asked for.
        "achieved_pace_ms": round(emit_seconds / count * 1000, 3),
        "commit_to_handler": summary_ms(to_handler),
        "commit_to_websocket": summary_ms(to_socket),
    }


@contextlib.contextmanager
def _beat_thread(interval: float) -> Iterator[None]:
    """What beat's 2 s schedule does: queue the relay task every `interval` seconds, the first
    time at a random moment of the first interval (beat's ticks do not follow the traffic)."""
    from apps.events.tasks import relay_outbox

    stop = threading.Event()

    def beat() -> None:
        stop.wait(random.uniform(0, interval))
        while not stop.is_set():
            relay_outbox.delay()
            stop.wait(interval)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


@contextlib.contextmanager
def _without_hint() -> Iterator[None]:
    from apps.events import relay

    original = relay.request_relay_soon
    relay.request_relay_soon = lambda: None
    try:
        yield
    finally:
        relay.request_relay_soon = original


def _drop_own_rows() -> None:
    """Delete this run's rows of `bench_latency`; drop the table unless another run uses it."""
    execute(
        f"DELETE FROM {TABLE} WHERE event_id IN (SELECT id FROM events_outboxevent "
        "WHERE aggregate_type = 'bench.latency' AND aggregate_id LIKE %s)",
        [f"{RUN_TAG}-%"],
    )
    left = fetchone(f"SELECT count(*) FROM {TABLE}")
    if left and left[0] == 0:
        execute(f"DROP TABLE IF EXISTS {TABLE}")


def run(*, quick: bool) -> dict[str, Any]:
    count = 300 if quick else 1000
    sparse = 16 if quick else 50
    log_dir = Path(tempfile.mkdtemp(prefix=f"bench-{RUN_TAG}-"))
    log = log_dir / "worker.log"
    execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (event_id uuid, handled_at timestamptz)")
    listener: GroupListener | None = None
    receive_errors: list[str] = []
    try:
        organization = create_organization("latency")
        with fence_foreign_events() as fenced, celery_worker(log) as worker:
            listener = GroupListener(f"org.{organization.id}")
            listener.start()

            # Warm-up: the first hint waits in the queue until the worker is up.
            warm = _emit_paced(3, organization.id, "warm")
            _wait_for(list(warm), listener, worker, log, timeout=90)

            select_one = select_one_round_trips(count)
            publish = redis_publish_latencies(count)

            with_hint = _phase("hint", count, organization.id, listener, worker, log)
            with _without_hint(), _beat_thread(BEAT_SECONDS):
                beat_alone = _phase("beat", count, organization.id, listener, worker, log)
            # Sparse traffic: the relay goes idle between events, so each waits for a sweep.
            with _without_hint(), _beat_thread(BEAT_SECONDS):
                beat_sparse = _phase("sparse", sparse, organization.id, listener, worker, log, pace=SPARSE_PACE_SECONDS)

            _drain_queue()  # leave no task behind
        shutil.rmtree(log_dir, ignore_errors=True)  # the worker's log is kept only on failure
    finally:
        if listener is not None:
            listener.stop()
            receive_errors = listener.receive_errors[:5]
        _drop_own_rows()
        delete_outbox_rows()
        delete_organizations_and_users()

    handler_p50 = with_hint["commit_to_handler"]["p50_ms"]
    socket_p50 = with_hint["commit_to_websocket"]["p50_ms"]
    select_one_ms = summary_ms(select_one)
    publish_ms = summary_ms(publish)
    return {
        "params": {
            "events_per_phase": count,
            "pace_ms": PACE_SECONDS * 1000,
            "worker": "celery worker --pool solo (subprocess), apps' handlers and sinks + bench.handlers",
            "beat": f"thread calling relay_outbox.delay() every {BEAT_SECONDS:g} s; hint replaced by a no-op",
            "hint_debounce_ms": settings.OUTBOX_HINT_DEBOUNCE_MS,
            "fenced_foreign_events": fenced,
            "listener_receive_errors": receive_errors,
        },
        "figure": {"with_hint": with_hint, "beat_alone": beat_alone, "beat_alone_sparse": beat_sparse},
        "baseline": {
            "select_1_round_trip": select_one_ms,
            "redis_publish_to_subscriber": publish_ms,
        },
        "ratio": {
            "handler_p50_over_select_1_p50": _ratio(handler_p50, select_one_ms["p50_ms"]),
            "websocket_p50_over_publish_p50": _ratio(socket_p50, publish_ms["p50_ms"]),
            "handler_p99_over_select_1_p99": _ratio(with_hint["commit_to_handler"]["p99_ms"], select_one_ms["p99_ms"]),
            "websocket_p99_over_publish_p99": _ratio(with_hint["commit_to_websocket"]["p99_ms"], publish_ms["p99_ms"]),
        },
        "ratio_meaning": "latency with the hint / raw round trip (lower is better)",
        "target": {"commit_to_handler_p50_ms_max_with_hint": TARGET_HANDLER_P50_MS},
        "target_met": handler_p50 < TARGET_HANDLER_P50_MS,
    }


def _ratio(figure: float, baseline: float) -> float | None:
    return round(figure / baseline, 2) if baseline else None


def headline(result: dict[str, Any]) -> tuple[str, str, str]:
    hint = result["figure"]["with_hint"]
    beat = result["figure"]["beat_alone_sparse"]
    base = result["baseline"]
    return (
        f"hint: handler p50/p99 {hint['commit_to_handler']['p50_ms']:.1f}/{hint['commit_to_handler']['p99_ms']:.1f} ms, "
        f"ws {hint['commit_to_websocket']['p50_ms']:.1f}/{hint['commit_to_websocket']['p99_ms']:.1f} ms; "
        f"beat (sparse): handler p50 {beat['commit_to_handler']['p50_ms']:.0f} ms",
        f"SELECT 1 p50 {base['select_1_round_trip']['p50_ms']:.3f} ms, "
        f"PUBLISH p50 {base['redis_publish_to_subscriber']['p50_ms']:.3f} ms",
        f"{result['ratio']['handler_p50_over_select_1_p50']:.0f}x / {result['ratio']['websocket_p50_over_publish_p50']:.0f}x "
        f"(handler p50 < {TARGET_HANDLER_P50_MS:.0f} ms)",
    )
