"""emit() writes the event in the caller's transaction and asks the relay to run after commit
(ARCHITECTURE section 8)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.core.request_context import reset_request_id, set_request_id
from apps.events.emit import emit
from apps.events.errors import EmitOutsideTransaction
from apps.events.models import EventStatus, OutboxEvent
from apps.organizations.models import Organization
from apps.organizations.services.organizations import organization_create, organization_update
from apps.organizations.tests.factories import OrganizationFactory

RELAY_TASK = "apps.events.tasks.relay_outbox"


class Boom(Exception):
    pass


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The Celery broker of this test worker (a Redis database of its own), emptied first."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


def _queued_tasks(broker: redis.Redis) -> list[str]:
    return [json.loads(raw)["headers"]["task"] for raw in broker.lrange("celery", 0, -1)]


def _current_txid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return cursor.fetchone()[0]


@pytest.fixture
def request_id():
    token = set_request_id("req-7f3a9c01d2e4")
    yield "req-7f3a9c01d2e4"
    reset_request_id(token)


@pytest.mark.django_db
def test_a_service_writes_one_pending_event_carrying_the_envelope_in_its_transaction(request_id):
    organization = OrganizationFactory(name="Shree Cotton", code="SCH")
    actor = UserFactory(organization=organization, is_superuser=True)  # the service checks rights
    before = timezone.now()

    organization_update(organization_id=organization.id, actor=actor, name="Shree Cotton Mills")

    event = OutboxEvent.objects.get()
    assert event.type == "organizations.organization.updated"
    assert event.version == 1
    assert event.aggregate_type == "organizations.organization"
    assert event.aggregate_id == str(organization.id)
    assert event.organization_id == organization.id
    assert event.partner_id is None
    assert event.actor_id == actor.id
    assert event.correlation_id == "req-7f3a9c01d2e4"
    assert event.payload == {
        "code": "SCH",
        "name": "Shree Cotton Mills",
        "is_active": True,
        "changed": {"name": ["Shree Cotton", "Shree Cotton Mills"]},
    }
    assert event.status == EventStatus.PENDING
    assert (event.attempts, event.claimed_until, event.dispatched_at, event.last_error) == (0, None, None, "")
    assert before <= event.occurred_at == event.next_attempt_at <= timezone.now()
    # Written by the caller's (here: the test's) transaction, which the feed horizon relies on.
    assert event.txid == _current_txid()


@pytest.mark.django_db
def test_events_get_increasing_positions_in_emit_order():
    organization = OrganizationFactory()

    with transaction.atomic():
        first = emit("test.thing.a", aggregate=organization)
        second = emit("test.thing.b", aggregate=organization)
        third = emit("test.thing.c", aggregate_type="test.thing", aggregate_id="42")

    positions = list(OutboxEvent.objects.order_by("position").values_list("type", "position"))
    assert positions == [
        ("test.thing.a", first.position),
        ("test.thing.b", first.position + 1),
        ("test.thing.c", first.position + 2),
    ]
    assert (second.position, third.position) == (first.position + 1, first.position + 2)


@pytest.mark.django_db
def test_emit_takes_type_id_and_organization_from_the_aggregate_and_has_no_correlation_outside_a_request():
    user = UserFactory()

    with transaction.atomic():
        emit("test.user.poked", aggregate=user, payload={"n": 1})

    event = OutboxEvent.objects.get()
    assert (event.aggregate_type, event.aggregate_id) == ("accounts.user", str(user.id))
    assert event.organization_id == user.organization_id
    assert (event.correlation_id, event.actor_id) == ("", None)
    assert event.payload == {"n": 1}


@pytest.mark.django_db
def test_emit_without_an_aggregate_is_refused_and_writes_nothing():
    with pytest.raises(ValueError, match="needs an aggregate"), transaction.atomic():
        emit("test.thing.a", aggregate_type="test.thing")

    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_emit_outside_a_transaction_raises_and_writes_nothing():
    organization = OrganizationFactory()

    with pytest.raises(EmitOutsideTransaction, match=r"emit\('test.thing.a'\) must run inside transaction.atomic\(\)"):
        emit("test.thing.a", aggregate=organization)

    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_event():
    organization = OrganizationFactory()

    def emit_then_fail() -> None:
        with transaction.atomic():
            emit("test.thing.a", aggregate=organization)
            raise Boom

    with pytest.raises(Boom):
        emit_then_fail()

    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_organization_created_in_a_rolled_back_transaction_leaves_neither_row_nor_event():
    written_before_the_rollback: list[int] = []

    def create_then_fail() -> None:
        with transaction.atomic():
            organization_create(code="gin", name="Ginning Co")
            written_before_the_rollback.append(OutboxEvent.objects.count())
            raise Boom

    with pytest.raises(Boom):
        create_then_fail()

    assert written_before_the_rollback == [1]

    assert Organization.objects.filter(code="GIN").count() == 0
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_commit_enqueues_one_relay_task_on_the_broker(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        organization_create(code="gin", name="Ginning Co")

    assert len(callbacks) == 1
    assert _queued_tasks(broker) == [RELAY_TASK]


@pytest.mark.django_db
def test_commits_within_the_debounce_window_enqueue_a_single_relay_task(
    broker, settings, django_capture_on_commit_callbacks
):
    from apps.core.redis import get_redis

    settings.OUTBOX_HINT_DEBOUNCE_MS = 5000
    organization = OrganizationFactory()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for n in range(3):
            emit("test.thing.a", aggregate=organization, payload={"n": n})

    assert len(callbacks) == 3
    assert _queued_tasks(broker) == [RELAY_TASK]
    assert get_redis().get("cotton:events:relay-hint") == "1"
    assert 0 < get_redis().pttl("cotton:events:relay-hint") <= 5000


@pytest.mark.django_db
def test_a_hint_that_cannot_reach_redis_is_dropped_and_the_event_stays_committed(
    broker, settings, django_capture_on_commit_callbacks
):
    settings.REDIS_CACHE_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    organization = OrganizationFactory()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        emit("test.thing.a", aggregate=organization)

    assert _queued_tasks(broker) == []
    assert OutboxEvent.objects.filter(status=EventStatus.PENDING).count() == 1


@pytest.mark.django_db
def test_no_relay_is_enqueued_before_commit_or_after_rollback(broker, django_capture_on_commit_callbacks):
    organization = OrganizationFactory()

    queued_before_commit: list[list[str]] = []

    def emit_then_fail() -> None:
        with transaction.atomic():
            emit("test.thing.a", aggregate=organization)
            queued_before_commit.append(_queued_tasks(broker))
            raise Boom

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        emit_then_fail()

    assert queued_before_commit == [[]]
    assert callbacks == []
    assert _queued_tasks(broker) == []
