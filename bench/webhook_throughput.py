"""webhook_throughput: signed deliveries/s through the real delivery service, next to raw POSTs.

A receiver process (bench/receiver.py: ThreadingHTTPServer on 127.0.0.1, answering 204) and
five endpoints of an organization of this run subscribed to `bench.webhook.*`. Events are
emitted and relayed in this process through the real relay, whose `webhooks.fanout` handler
creates one delivery per endpoint and event (N in all); the Celery tasks it would queue on commit
are collected instead, and their deliveries are then attempted one after the other with
`apps.webhooks.services.deliveries.delivery_attempt` (what the task runs: claim, resolve and check the
address, sign with Standard Webhooks, POST, record the attempt), as one worker would.

Baseline: raw httpx POSTs of the same bodies to the same receiver through one client, each on a
new connection (`connection: close`) as the transport makes one per attempt; no signing, no
database. For reference: the same with keep-alive, and `httpx.post()` (a client, and its TLS
context, per call: what the transport paid per delivery before it kept one TLS context).
ratio = deliveries/s / raw POSTs/s.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction

from bench.common import (
    REPO,
    RUN_TAG,
    Stopwatch,
    create_organization,
    delete_organizations_and_users,
    delete_outbox_rows,
    fence_foreign_events,
    require,
    tagged,
)

NAME = "webhook_throughput"
ENDPOINTS = 5
PER_CALL_SAMPLE = 40
JSON = {"content-type": "application/json"}
CLOSE = {**JSON, "connection": "close"}  # a new TCP connection per POST, as the transport makes
EVENT_TYPE = "bench.webhook.delivered"


@contextlib.contextmanager
def receiver_process() -> Iterator[str]:
    """Start bench/receiver.py; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        port = int(process.stdout.readline().strip()) if process.stdout else 0
        require(port, "the receiver did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _stats(base_url: str) -> dict[str, Any]:
    return httpx.get(f"{base_url}/stats", timeout=10).json()


def _reset(base_url: str) -> None:
    httpx.delete(f"{base_url}/stats", timeout=10)


@contextlib.contextmanager
def _settings(**values: Any) -> Iterator[None]:
    saved = {name: getattr(settings, name) for name in values}
    for name, value in values.items():
        setattr(settings, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


@contextlib.contextmanager
def _collected_enqueues() -> Iterator[list[str]]:
    """Deliveries the fan-out queues on commit, collected here instead of sent to the broker;
    and no relay hint (this process runs the relay itself)."""
    from apps.events import relay
    from apps.webhooks.services import common

    collected: list[str] = []
    original_enqueue, original_hint = common._enqueue, relay.request_relay_soon
    common._enqueue = lambda delivery_ids, eta: collected.extend(delivery_ids)
    relay.request_relay_soon = lambda: None
    try:
        yield collected
    finally:
        common._enqueue, relay.request_relay_soon = original_enqueue, original_hint


def _delete_endpoints(organization_id: Any) -> None:
    from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

    with transaction.atomic():
        endpoints = WebhookEndpoint.objects.filter(organization_id=organization_id, url__contains=RUN_TAG)
        WebhookAttempt.objects.filter(delivery__endpoint__in=endpoints).delete()
        WebhookDelivery.objects.filter(endpoint__in=endpoints).delete()
        endpoints.delete()


def run(*, quick: bool) -> dict[str, Any]:
    from apps.events.emit import emit
    from apps.events.relay import relay_until_idle
    from apps.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
    from apps.webhooks.services.deliveries import delivery_attempt
    from apps.webhooks.signing import new_secret

    deliveries_wanted = 200 if quick else 500
    events = deliveries_wanted // ENDPOINTS
    organization = None
    try:
        with (
            receiver_process() as base_url,
            _settings(WEBHOOKS_ALLOW_LOOPBACK=True),
            fence_foreign_events() as fenced,
            _collected_enqueues() as queued,
        ):
            organization = create_organization("webhooks")
            endpoints = [
                WebhookEndpoint.objects.create(
                    organization_id=organization.id,
                    url=f"{base_url}/hooks/{RUN_TAG}/{n}",
                    event_types=["bench.webhook.*"],
                    secret=new_secret(),
                    description=f"bench {RUN_TAG}",
                )
                for n in range(ENDPOINTS)
            ]
            secrets = {f"/hooks/{RUN_TAG}/{n}": endpoint.secret for n, endpoint in enumerate(endpoints)}

            # The fan-out: events through the real relay and its webhooks.fanout handler.
            with transaction.atomic():
                for n in range(events):
                    emit(
                        EVENT_TYPE,
                        aggregate_type="bench.webhook",
                        aggregate_id=tagged("webhook", n),
                        organization_id=organization.id,
                        payload={"n": n, "bale": f"B-{n:05d}", "weight_kg": "170.000"},
                    )
            watch = Stopwatch()
            relay_until_idle(max_seconds=120)
            fanout_seconds = watch.elapsed
            require(len(queued) == deliveries_wanted, f"fan-out queued {len(queued)} of {deliveries_wanted}")
            bodies = list(
                WebhookDelivery.objects.filter(id__in=queued).order_by("created_at").values_list("body", flat=True)
            )

            # Baseline: raw POSTs of the same bodies, a new connection each (as the transport).
            url = f"{base_url}/hooks/{RUN_TAG}/raw"
            with httpx.Client(timeout=10) as client:
                client.post(url, content=bodies[0].encode(), headers=JSON)  # warm-up
                _reset(base_url)
                watch = Stopwatch()
                for body in bodies:
                    response = client.post(url, content=body.encode(), headers=CLOSE)
                    require(response.status_code == 204, f"the receiver answered {response.status_code}")
                raw_seconds = watch.elapsed
                watch = Stopwatch()
                for body in bodies:
                    client.post(url, content=body.encode(), headers=JSON)
                pooled_seconds = watch.elapsed
            # For reference: httpx.post() builds a client, and its TLS context, on every call.
            sample = bodies[:PER_CALL_SAMPLE]
            watch = Stopwatch()
            for body in sample:
                httpx.post(url, content=body.encode(), headers=JSON, timeout=10)
            per_call_seconds = watch.elapsed
            require(_stats(base_url)["count"] == 2 * len(bodies) + len(sample), "the receiver missed raw POSTs")
            _reset(base_url)

            # The figure: every delivery through the delivery service, one after the other.
            watch = Stopwatch()
            outcomes = [delivery_attempt(delivery_id=delivery_id) for delivery_id in queued]
            service_seconds = watch.elapsed
            stats = _stats(base_url)

        succeeded = WebhookDelivery.objects.filter(id__in=queued, status=DeliveryStatus.SUCCEEDED).count()
        require(all(o is not None and o.status == DeliveryStatus.SUCCEEDED for o in outcomes), "a delivery failed")
        require(
            succeeded == deliveries_wanted and stats["count"] == deliveries_wanted,
            f"{succeeded} deliveries succeeded and {stats['count']} reached the receiver, of {deliveries_wanted}",
        )
        verified = _verify(stats["samples"], secrets)
    finally:
        if organization is not None:
            _delete_endpoints(organization.id)
        delete_outbox_rows()
        delete_organizations_and_users()

    service_rate = deliveries_wanted / service_seconds
    raw_rate = deliveries_wanted / raw_seconds
    return {
        "params": {
            "deliveries": deliveries_wanted,
            "endpoints": ENDPOINTS,
            "events": events,
            "body_bytes": len(bodies[0]),
            "receiver": "bench/receiver.py: ThreadingHTTPServer subprocess on 127.0.0.1, 204",
            "concurrency": 1,
            "fenced_foreign_events": fenced,
        },
        "figure": {
            "deliveries_per_s": round(service_rate, 1),
            "seconds": round(service_seconds, 3),
            "mean_ms_per_delivery": round(service_seconds / deliveries_wanted * 1000, 3),
            "fanout_relay_seconds": round(fanout_seconds, 3),
            "signatures_verified": verified,
        },
        "baseline": {
            "what": "raw httpx POSTs of the same bodies, a new connection each (one client), no signing, no DB",
            "posts_per_s": round(raw_rate, 1),
            "seconds": round(raw_seconds, 3),
            "keepalive_client_posts_per_s": round(deliveries_wanted / pooled_seconds, 1),
            "httpx_post_per_call_posts_per_s": round(len(sample) / per_call_seconds, 1),
        },
        "ratio": round(service_rate / raw_rate, 4),
        "ratio_meaning": "delivery service deliveries/s / raw POSTs/s (higher is better)",
        "target": None,
        "target_met": None,
    }


def _verify(samples: list[dict[str, Any]], secrets: dict[str, str]) -> int:
    """Check the Standard Webhooks signatures of the requests the receiver kept."""
    from standardwebhooks import Webhook

    for sample in samples:
        headers = {name.lower(): value for name, value in sample["headers"].items()}
        payload = Webhook(secrets[sample["path"]]).verify(sample["body"], headers)
        require(payload["id"] == headers["webhook-id"], "the signed id is the event id")
        json.loads(sample["body"])
    return len(samples)


def headline(result: dict[str, Any]) -> tuple[str, str, str]:
    return (
        f"{result['figure']['deliveries_per_s']:,.1f} deliveries/s",
        f"{result['baseline']['posts_per_s']:,.1f} raw POSTs/s",
        f"{result['ratio']:.3f}",
    )
