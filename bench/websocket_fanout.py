"""websocket_fanout: one event to N connected websocket clients, through the real stack.

N staff users of one organization of this run each connect a real `StreamConsumer` over
`channels.testing.WebsocketCommunicator` against `cotton_erp.asgi.application` (origin check,
session middleware, router) with a ticket from `apps.realtime.services.ticket_issue`, on the
real Redis channel layer; each socket joins its user and organization groups. Then, round after
round, this process emits one event of the organization in a transaction and runs the relay
right after the commit in a worker thread (its realtime sink does the `group_send`); every
socket must get the event frame exactly once. Latency: commit to the frame at each client.

Baseline: N Redis pub/sub subscribers on the channel layer's Redis and one PUBLISH per round;
latency from the publish to each subscriber. Both sides run in one asyncio loop of this process.
delivered/expected must be exactly 1.0; ratio = p99 figure / p99 baseline (lower is better).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections, transaction

from bench.common import (
    RUN_TAG,
    create_organization,
    create_staff_users,
    delete_organizations_and_users,
    delete_outbox_rows,
    fence_foreign_events,
    require,
    summary_ms,
    tagged,
)

NAME = "websocket_fanout"
EVENT_TYPE = "bench.fanout.announced"
HEADERS = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
STREAM = "/ws/v1/stream/"
CONNECT_CONCURRENCY = 20
RECEIVE_TIMEOUT = 15.0


@contextlib.contextmanager
def _timed_sinks(durations: list[float]) -> Iterator[None]:
    """Wrap the registered sinks (the realtime fan-out) to time them; the real ones still run."""
    from apps.events import registry

    originals = registry.sinks()

    def timed(sink: Any) -> Any:
        def call(envelopes: list[Any]) -> None:
            started = time.perf_counter()
            try:
                sink(envelopes)
            finally:
                durations.append(time.perf_counter() - started)

        return call

    for name, sink in originals:
        registry.register_sink(name, timed(sink))
    try:
        yield
    finally:
        for name, sink in originals:
            registry.register_sink(name, sink)


@contextlib.contextmanager
def _without_hint() -> Iterator[None]:
    from apps.events import relay

    original = relay.request_relay_soon
    relay.request_relay_soon = lambda: None
    try:
        yield
    finally:
        relay.request_relay_soon = original


def _emit_and_relay(organization_id: Any, round_number: int) -> tuple[str, float, int]:
    """In a worker thread: commit one event, then relay it (the sink fans it out)."""
    from apps.events.emit import emit
    from apps.events.relay import relay_until_idle

    try:
        with transaction.atomic():
            event = emit(
                EVENT_TYPE,
                aggregate_type="bench.fanout",
                aggregate_id=tagged("fanout", round_number),
                organization_id=organization_id,
                payload={"round": round_number, "note": "fan-out"},
            )
        committed = time.time()
        relayed = relay_until_idle(max_seconds=30)
        return str(event.id), committed, relayed
    finally:
        connections.close_all()


async def _connect_all(users: list[Any]) -> list[Any]:
    from channels.testing import WebsocketCommunicator

    from apps.realtime.services import ticket_issue
    from cotton_erp.asgi import application

    tickets = [await sync_to_async(ticket_issue)(user_id=user.pk) for user in users]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    communicators: list[Any] = []

    async def connect(ticket: str) -> None:
        async with gate:
            communicator = WebsocketCommunicator(application, f"{STREAM}?ticket={ticket}", headers=HEADERS)
            communicators.append(communicator)
            connected, _ = await communicator.connect(timeout=RECEIVE_TIMEOUT)
            require(connected, "the stream accepts the handshake")
            ready = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
            require(ready["type"] == "ready", f"expected the ready frame, got {ready}")

    await asyncio.gather(*(connect(issued.ticket) for issued in tickets))
    return communicators


async def _figure(organization_id: Any, users: list[Any], rounds: int) -> dict[str, Any]:
    from channels.db import database_sync_to_async

    started = time.perf_counter()
    communicators = await _connect_all(users)
    connect_seconds = time.perf_counter() - started
    latencies: list[float] = []
    delivered = 0
    relay_seconds: list[float] = []
    emit_and_relay = sync_to_async(_emit_and_relay, thread_sensitive=False)
    try:
        for round_number in range(rounds):
            # The receivers wait first; the event id is known once committed, so match on it after.
            box: dict[str, str] = {}
            ready = asyncio.Event()

            async def receive(communicator: Any, box: dict[str, str] = box, ready: asyncio.Event = ready) -> float:
                frame = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
                arrived = time.time()
                while frame.get("type") != "event":  # a heartbeat ping: skip it
                    frame = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT)
                    arrived = time.time()
                await ready.wait()
                require(frame["event"]["id"] == box["id"], f"got event {frame['event']['id']}, expected {box['id']}")
                return arrived

            waiting = [asyncio.create_task(receive(c)) for c in communicators]
            await asyncio.sleep(0)
            before = time.perf_counter()
            event_id, committed, relayed = await emit_and_relay(organization_id, round_number)
            relay_seconds.append(time.perf_counter() - before)
            require(relayed >= 1, "the relay found the event")
            box["id"] = event_id
            ready.set()
            arrivals = await asyncio.gather(*waiting)
            delivered += len(arrivals)
            latencies.extend(arrived - committed for arrived in arrivals)
        # Exactly once: nothing more for anyone.
        extra = await asyncio.gather(*(c.receive_nothing(timeout=0.2) for c in communicators))
        duplicates = sum(1 for nothing in extra if not nothing)
    finally:
        await asyncio.gather(*(c.disconnect(timeout=1) for c in communicators), return_exceptions=True)
        await database_sync_to_async(connections.close_all)()
        await _forget_groups([f"org.{organization_id}", *(f"user.{user.pk}" for user in users)])
    expected = len(users) * rounds
    return {
        "clients": len(users),
        "rounds": rounds,
        "connect_seconds": round(connect_seconds, 3),
        "delivered": delivered,
        "expected": expected,
        "duplicates": duplicates,
        "delivered_over_expected": delivered / expected,
        "commit_to_frame": summary_ms(latencies),
        "relay_call_ms_mean": round(sum(relay_seconds) / len(relay_seconds) * 1000, 3),
    }


async def _forget_groups(groups: list[str]) -> None:
    """Delete the channel-layer groups of this run's organization and users: a consumer cut off
    at disconnect leaves its membership behind (for the layer's group expiry, a day)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    for group in groups:
        await layer.connection(layer.consistent_hash(group)).delete(layer._group_key(group))


async def _baseline(subscribers: int, rounds: int) -> dict[str, Any]:
    import redis.asyncio as aioredis

    url = settings.REDIS_CACHE_URL  # the channel layer's Redis
    channel = f"bench:{RUN_TAG}:fanout"
    clients = [aioredis.Redis.from_url(url) for _ in range(subscribers)]
    pubsubs = [client.pubsub(ignore_subscribe_messages=True) for client in clients]
    publisher = aioredis.Redis.from_url(url)
    latencies: list[float] = []
    delivered = 0
    try:
        await asyncio.gather(*(pubsub.subscribe(channel) for pubsub in pubsubs))
        # Let every subscription settle before the first publish.
        deadline = time.monotonic() + 10
        while int((await publisher.pubsub_numsub(channel))[0][1]) < subscribers:
            require(time.monotonic() < deadline, "subscribers did not all subscribe")
            await asyncio.sleep(0.05)

        async def receive(pubsub: Any) -> tuple[float, float]:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=RECEIVE_TIMEOUT)
                if message is not None and message["type"] == "message":
                    return time.time(), float(message["data"])

        for _ in range(rounds):
            waiting = [asyncio.create_task(receive(pubsub)) for pubsub in pubsubs]
            await asyncio.sleep(0)
            await publisher.publish(channel, repr(time.time()))
            arrivals = await asyncio.gather(*waiting)
            delivered += len(arrivals)
            latencies.extend(arrived - sent for arrived, sent in arrivals)
    finally:
        for pubsub in pubsubs:
            await pubsub.aclose()
        for client in clients:
            await client.aclose()
        await publisher.aclose()
    return {
        "subscribers": subscribers,
        "rounds": rounds,
        "delivered_over_expected": delivered / (subscribers * rounds),
        "publish_to_subscriber": summary_ms(latencies),
    }


def run(*, quick: bool) -> dict[str, Any]:
    clients = 50 if quick else 200
    rounds = 3 if quick else 5
    try:
        organization = create_organization("fanout")
        users = create_staff_users(organization, clients)
        sink_seconds: list[float] = []
        with fence_foreign_events() as fenced, _without_hint(), _timed_sinks(sink_seconds):
            figure = asyncio.run(_figure(organization.id, users, rounds))
        if sink_seconds:
            figure["sink_call_ms_mean"] = round(sum(sink_seconds) / len(sink_seconds) * 1000, 3)
        baseline = asyncio.run(_baseline(clients, rounds))
    finally:
        delete_outbox_rows()
        delete_organizations_and_users()
    p99 = figure["commit_to_frame"]["p99_ms"]
    base_p99 = baseline["publish_to_subscriber"]["p99_ms"]
    exact = figure["delivered_over_expected"] == 1.0 and figure["duplicates"] == 0
    return {
        "params": {
            "clients": clients,
            "rounds": rounds,
            "consumer": "apps.realtime.consumers.StreamConsumer via WebsocketCommunicator (cotton_erp.asgi)",
            "relay": "in-process relay_until_idle() right after each commit, with the apps' handlers and sinks",
            "fenced_foreign_events": fenced,
        },
        "figure": figure,
        "baseline": baseline,
        "ratio": round(p99 / base_p99, 2) if base_p99 else None,
        "ratio_meaning": "commit-to-frame p99 / raw PUBLISH-to-subscriber p99 (lower is better)",
        "target": {"delivered_over_expected": 1.0},
        "target_met": exact,
    }


def headline(result: dict[str, Any]) -> tuple[str, str, str]:
    figure, baseline = result["figure"], result["baseline"]
    return (
        f"{figure['delivered']}/{figure['expected']} frames, p99 {figure['commit_to_frame']['p99_ms']:.1f} ms",
        f"PUBLISH p99 {baseline['publish_to_subscriber']['p99_ms']:.1f} ms",
        f"{result['ratio']:.1f}x (delivered/expected {figure['delivered_over_expected']:.3f})",
    )
