"""Attempts against a real HTTP receiver: signatures, status-code rules, timeouts, the schedule."""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
from datetime import datetime, timedelta
from email.utils import format_datetime

import pytest
import time_machine
from django.utils import timezone

from apps.webhooks import transport
from apps.webhooks.destinations import Destination
from apps.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from apps.webhooks.services.deliveries import deliveries_enqueue_due, delivery_attempt
from apps.webhooks.tests.factories import WebhookEndpointFactory
from apps.webhooks.tests.receiver import Reply

pytestmark = pytest.mark.django_db

SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
JITTER = 0.1


def _seconds_until(moment: datetime, since: datetime) -> float:
    return (moment - since).total_seconds()


def test_a_2xx_answer_delivers_the_signed_envelope_once(endpoint, receiver, make_delivery):
    delivery = make_delivery(endpoint)

    outcome = delivery_attempt(delivery_id=delivery.id)

    assert outcome.status == DeliveryStatus.SUCCEEDED
    (request,) = receiver.requests
    assert request.path == "/hooks/cotton"
    assert request.headers["webhook-id"] == str(delivery.event_id)
    assert request.headers["content-type"] == "application/json"
    body = request.verify(endpoint.secret)
    assert body["id"] == str(delivery.event_id)
    assert body["type"] == "tests.widget.created"
    assert body["organization"] == str(endpoint.organization_id)
    assert body["payload"] == {"widget": "widget-1", "colour": "blue"}
    assert set(body) == {
        "id",
        "type",
        "version",
        "occurred_at",
        "organization",
        "partner",
        "aggregate_type",
        "aggregate_id",
        "actor",
        "correlation_id",
        "payload",
    }
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == ("SUCCEEDED", 1, 200)
    assert delivery.delivered_at is not None
    assert delivery.next_attempt_at is None
    # A second message for the same delivery finds nothing to send.
    assert delivery_attempt(delivery_id=delivery.id) is None
    assert len(receiver.requests) == 1


def test_the_signature_header_is_v1_hmac_sha256_of_id_timestamp_body(endpoint, receiver, make_delivery):
    import hashlib
    import hmac

    delivery = make_delivery(endpoint)

    delivery_attempt(delivery_id=delivery.id)

    (request,) = receiver.requests
    key = base64.b64decode(endpoint.secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert request.signatures == [f"v1,{expected}"]
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 5


def test_the_attempt_records_status_latency_and_the_first_kilobyte(endpoint, receiver, make_delivery):
    receiver.reply(Reply(status=202, body=b"x" * 5000))
    delivery = make_delivery(endpoint)

    delivery_attempt(delivery_id=delivery.id)

    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert (attempt.attempt_number, attempt.succeeded, attempt.status_code, attempt.error) == (1, True, 202, "")
    assert attempt.response_excerpt == "x" * 1024
    assert attempt.latency_ms is not None
    assert attempt.latency_ms >= 0
    assert attempt.url == receiver.url()


def test_a_500_schedules_the_second_attempt_about_5_seconds_later(endpoint, receiver, make_delivery):
    receiver.reply(Reply(status=500, body=b"boom"))
    delivery = make_delivery(endpoint)
    before = timezone.now()

    outcome = delivery_attempt(delivery_id=delivery.id)

    after = timezone.now()
    assert (outcome.status, outcome.status_code, outcome.attempt_number) == ("FAILED", 500, 1)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert before + timedelta(seconds=5 * (1 - JITTER)) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= after + timedelta(seconds=5 * (1 + JITTER))
    assert delivery.last_error == "HTTP 500."
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert (attempt.succeeded, attempt.status_code, attempt.response_excerpt) == (False, 500, "boom")
    # Not due yet: nothing is sent.
    assert delivery_attempt(delivery_id=delivery.id) is None
    assert len(receiver.requests) == 1


def test_a_410_disables_the_endpoint_and_stops_its_deliveries(endpoint, receiver, make_delivery):
    receiver.reply(Reply(status=410))
    delivery = make_delivery(endpoint)
    other = make_delivery(endpoint)

    outcome = delivery_attempt(delivery_id=delivery.id)

    assert outcome.status == DeliveryStatus.CANCELLED
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert endpoint.disabled_at is not None
    assert "410" in endpoint.disabled_reason
    delivery.refresh_from_db()
    other.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at, delivery.last_status_code) == ("CANCELLED", None, 410)
    assert other.status == DeliveryStatus.CANCELLED
    assert delivery_attempt(delivery_id=other.id) is None
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_honour_retry_after_in_seconds(endpoint, receiver, make_delivery, status):
    receiver.reply(Reply(status=status, headers={"Retry-After": "120"}))
    with time_machine.travel(timezone.now(), tick=False):
        delivery = make_delivery(endpoint)

        outcome = delivery_attempt(delivery_id=delivery.id)

        assert outcome.status == DeliveryStatus.FAILED
        assert outcome.next_attempt_at == timezone.now() + timedelta(seconds=120)


def test_retry_after_may_be_an_http_date(endpoint, receiver, make_delivery):
    now = timezone.now().replace(microsecond=0)
    receiver.reply(Reply(status=503, headers={"Retry-After": format_datetime(now + timedelta(minutes=7), usegmt=True)}))
    with time_machine.travel(now, tick=False):
        delivery = make_delivery(endpoint)

        outcome = delivery_attempt(delivery_id=delivery.id)

    assert outcome.next_attempt_at == now + timedelta(minutes=7)


def test_a_429_without_retry_after_follows_the_schedule(endpoint, receiver, make_delivery):
    receiver.reply(Reply(status=429))
    with time_machine.travel(timezone.now(), tick=False):
        delivery = make_delivery(endpoint)

        outcome = delivery_attempt(delivery_id=delivery.id)

        assert 4.5 <= _seconds_until(outcome.next_attempt_at, timezone.now()) <= 5.5


def test_a_redirect_is_not_followed_and_counts_as_a_failure(endpoint, receiver, make_delivery):
    receiver.reply(Reply(status=301, headers={"Location": receiver.url("/moved")}))
    delivery = make_delivery(endpoint)

    outcome = delivery_attempt(delivery_id=delivery.id)

    assert (outcome.status, outcome.status_code) == ("FAILED", 301)
    assert [r.path for r in receiver.requests] == ["/hooks/cotton"]
    delivery.refresh_from_db()
    assert delivery.last_error == f"HTTP 301: redirect to {receiver.url('/moved')} not followed."


def test_a_receiver_slower_than_the_timeout_is_a_failure_with_an_error(endpoint, receiver, make_delivery, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3
    receiver.reply(Reply(status=200, delay=0.8))
    delivery = make_delivery(endpoint)

    outcome = delivery_attempt(delivery_id=delivery.id)

    assert (outcome.status, outcome.status_code) == ("FAILED", None)
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.succeeded is False
    assert attempt.status_code is None
    assert attempt.error.startswith("timeout: ReadTimeout")
    assert 290 <= attempt.latency_ms < 3000
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is not None


def test_a_refused_connection_is_a_failure_with_an_error(organization, make_delivery):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    endpoint = WebhookEndpointFactory(organization_id=organization.id, url=f"http://127.0.0.1:{closed_port}/x")
    delivery = make_delivery(endpoint)

    outcome = delivery_attempt(delivery_id=delivery.id)

    assert (outcome.status, outcome.status_code) == ("FAILED", None)
    assert outcome.error.startswith("ConnectError")


def test_a_url_that_now_resolves_to_a_private_address_is_refused_at_delivery(endpoint, receiver, make_delivery):
    delivery = make_delivery(endpoint)
    # DNS (or a hand edit) changed after the endpoint was checked.
    type(endpoint).objects.filter(pk=endpoint.pk).update(url="http://10.0.0.1/hooks")

    outcome = delivery_attempt(delivery_id=delivery.id)

    assert outcome.status == DeliveryStatus.FAILED
    assert outcome.error.startswith("refused: 10.0.0.1 resolves to 10.0.0.1, a private address")
    assert receiver.requests == []


def test_a_delivery_that_always_fails_follows_the_whole_schedule_then_is_dead(endpoint, receiver, make_delivery):
    receiver.default = Reply(status=500)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        delivery = make_delivery(endpoint)

        for number, delay in enumerate(SCHEDULE, start=1):
            outcome = delivery_attempt(delivery_id=delivery.id)

            assert (outcome.attempt_number, outcome.status) == (number, "FAILED")
            gap = _seconds_until(outcome.next_attempt_at, timezone.now())
            assert delay * (1 - JITTER) <= gap <= delay * (1 + JITTER), (number, gap)
            receiver.requests[-1].verify(endpoint.secret)
            traveller.move_to(outcome.next_attempt_at - timedelta(seconds=1))
            assert delivery_attempt(delivery_id=delivery.id) is None  # one second early: not due
            traveller.move_to(outcome.next_attempt_at)

        last = delivery_attempt(delivery_id=delivery.id)

        receiver.requests[-1].verify(endpoint.secret)
    assert (last.attempt_number, last.status, last.next_attempt_at) == (10, "DEAD", None)
    assert len(receiver.requests) == 10
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert list(
        WebhookAttempt.objects.filter(delivery=delivery)
        .order_by("attempted_at")
        .values_list("attempt_number", flat=True)
    ) == list(range(1, 11))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("DEAD", 10)
    assert delivery_attempt(delivery_id=delivery.id) is None


def test_a_delivery_that_fails_then_succeeds_is_succeeded(endpoint, receiver, make_delivery):
    receiver.reply(Reply(status=500), Reply(status=200))
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        delivery = make_delivery(endpoint)
        first = delivery_attempt(delivery_id=delivery.id)
        traveller.move_to(first.next_attempt_at)

        second = delivery_attempt(delivery_id=delivery.id)

    assert (first.status, second.status, second.attempt_number) == ("FAILED", "SUCCEEDED", 2)
    assert receiver.requests[0].body == receiver.requests[1].body


def test_retries_queue_a_celery_eta_only_when_near_and_the_sweeper_finds_the_rest(
    endpoint, receiver, make_delivery, django_capture_on_commit_callbacks
):
    receiver.default = Reply(status=500)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        delivery = make_delivery(endpoint)
        for _ in range(3):
            outcome = delivery_attempt(delivery_id=delivery.id)
            traveller.move_to(outcome.next_attempt_at)
        delivery.refresh_from_db()
        # The third retry is ~30 min away: beyond the ETA limit, left to the sweeper.
        assert delivery.enqueued_until is None
        assert deliveries_enqueue_due() == 1
        assert deliveries_enqueue_due() == 0  # marked as queued for the grace period
        delivery.refresh_from_db()
        assert delivery.enqueued_until == timezone.now() + timedelta(seconds=60)


def test_the_sweeper_leaves_deliveries_alone_that_are_not_due_or_already_queued(endpoint, make_delivery):
    fresh = make_delivery(endpoint)  # queued at creation
    assert fresh.enqueued_until is not None

    assert deliveries_enqueue_due() == 0

    WebhookDelivery.objects.filter(pk=fresh.pk).update(enqueued_until=None)
    assert deliveries_enqueue_due() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_attempt(endpoint, receiver, make_delivery, run_concurrently):
    receiver.reply(Reply(status=200, delay=0.3))
    delivery = make_delivery(endpoint)

    results = run_concurrently(lambda: delivery_attempt(delivery_id=delivery.id), times=2)

    assert [r.error for r in results] == [None, None]
    outcomes = [r.value for r in results]
    assert sorted(o is None for o in outcomes) == [False, True]
    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_the_body_sent_is_the_stored_envelope(endpoint, receiver, make_delivery):
    delivery = make_delivery(endpoint)

    delivery_attempt(delivery_id=delivery.id)

    assert receiver.requests[0].body.decode() == delivery.body
    assert json.loads(delivery.body)["occurred_at"].endswith("+00:00")
    assert datetime.fromisoformat(json.loads(delivery.body)["occurred_at"]).tzinfo is not None


def test_a_host_name_is_resolved_and_delivered_to_with_its_host_header(organization, receiver, make_delivery):
    endpoint = WebhookEndpointFactory(organization_id=organization.id, url=f"http://localhost:{receiver.port}/hooks")
    delivery = make_delivery(endpoint)

    outcome = delivery_attempt(delivery_id=delivery.id)

    assert outcome.status == DeliveryStatus.SUCCEEDED
    (request,) = receiver.requests
    assert request.headers["host"] == f"localhost:{receiver.port}"
    request.verify(endpoint.secret)


def test_the_next_address_is_tried_when_one_refuses_the_connection(receiver):
    # The receiver listens on 127.0.0.1 only: 127.0.0.2 refuses.
    refusing, listening = ipaddress.ip_address("127.0.0.2"), ipaddress.ip_address("127.0.0.1")
    destination = Destination(
        url=receiver.url(), scheme="http", host="127.0.0.1", port=receiver.port, addresses=(refusing, listening)
    )

    result = transport.post(destination, body="{}", headers={})

    assert (result.status_code, result.error) == (200, "")
    assert len(receiver.requests) == 1
