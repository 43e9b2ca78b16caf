"""The relay: claim due events, run the matching handlers idempotently, record the outcome, back
off and dead-letter failures, keep per-aggregate order (ARCHITECTURE section 8).

The relay compares `next_attempt_at` and leases with the database clock (`now()`) of its own short
transactions, so the tests that run it commit for real (`transaction=True`); inside the test's
transaction `now()` would stay at the test's start and no event would ever be due."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from structlog.testing import capture_logs

from apps.accounts.models import User, UserType
from apps.accounts.tests.factories import SuperAdminFactory, UserFactory
from apps.core.errors import PermissionDenied
from apps.events import registry
from apps.events.errors import EventNotReplayable
from apps.events.models import EventStatus, HandlerRun, HandlerRunStatus, OutboxEvent
from apps.events.relay import BatchResult, backoff_seconds, claim_batch, relay_batch, relay_until_idle
from apps.events.services.events import event_replay
from apps.events.tests.conftest import emit_committed
from apps.organizations.models import Organization
from apps.organizations.services.organizations import organization_create

committed = pytest.mark.django_db(transaction=True)


class Recorder:
    """A handler that records what it saw, and fails on the events it is told to."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[str] = []  # event ids of successful runs, in order
        self.calls = 0
        self.failing: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, envelope) -> None:
        with self._lock:
            self.calls += 1
        if envelope.id in self.failing:
            raise RuntimeError(f"{self.name} cannot handle {envelope.type}")
        with self._lock:
            self.seen.append(envelope.id)


def _time_passes(event: OutboxEvent) -> None:
    """Make a backed-off event due now, as if its next_attempt_at had been reached."""
    OutboxEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def _status(event: OutboxEvent) -> str:
    return OutboxEvent.objects.values_list("status", flat=True).get(pk=event.pk)


def _runs(event: OutboxEvent) -> dict[str, tuple[str, int]]:
    return {r.handler: (r.status, r.attempts) for r in HandlerRun.objects.filter(event=event)}


# --- dispatch ------------------------------------------------------------------------------------


@committed
def test_an_event_reaches_exact_prefix_wildcard_and_catch_all_handlers_and_no_others(handlers):
    recorders = {
        name: Recorder(name) for name in ["exact", "prefix", "all", "other_app", "other_type", "shorter_prefix_of_type"]
    }
    handlers("organizations.organization.created", recorders["exact"], name="exact")
    handlers("organizations.*", recorders["prefix"], name="prefix")
    handlers("*", recorders["all"], name="all")
    handlers("accounts.*", recorders["other_app"], name="other_app")
    handlers("organizations.organization.updated", recorders["other_type"], name="other_type")
    handlers("organizations.organization", recorders["shorter_prefix_of_type"], name="shorter_prefix_of_type")
    organization = organization_create(code="gin", name="Ginning Co")
    event = OutboxEvent.objects.get()

    result = relay_batch()

    assert result == BatchResult(claimed=1, delivered=1)
    assert {name: r.seen for name, r in recorders.items()} == {
        "exact": [str(event.id)],
        "prefix": [str(event.id)],
        "all": [str(event.id)],
        "other_app": [],
        "other_type": [],
        "shorter_prefix_of_type": [],
    }
    assert event.aggregate_id == str(organization.id)
    assert _runs(event) == {
        "exact": (HandlerRunStatus.DONE, 0),
        "prefix": (HandlerRunStatus.DONE, 0),
        "all": (HandlerRunStatus.DONE, 0),
    }


@committed
def test_a_delivered_event_is_dispatched_with_its_time_its_lease_released_and_not_claimed_again(handlers):
    recorder = Recorder("r")
    handlers("test.*", recorder, name="r")
    event = emit_committed("test.thing.created", aggregate_id="1")
    before = timezone.now()

    relay_batch()

    event.refresh_from_db()
    assert event.status == EventStatus.DISPATCHED
    assert before <= event.dispatched_at <= timezone.now()
    assert (event.attempts, event.claimed_until, event.last_error) == (0, None, "")
    assert relay_batch() == BatchResult()
    assert recorder.calls == 1


@committed
def test_an_event_without_handlers_is_dispatched(handlers):
    event = emit_committed("test.nobody.listens", aggregate_id="1")

    assert relay_batch() == BatchResult(claimed=1, delivered=1)

    assert _status(event) == EventStatus.DISPATCHED
    assert HandlerRun.objects.count() == 0


@committed
def test_a_handlers_writes_and_its_done_marker_commit_or_roll_back_together(handlers):
    def creates_an_organization(envelope) -> None:
        Organization.objects.create(code="KEPT", name="Kept by the handler")

    def writes_then_fails(envelope) -> None:
        Organization.objects.create(code="LOST", name="Rolled back with the handler")
        raise RuntimeError("disk on fire")

    handlers("test.*", creates_an_organization, name="writer")
    handlers("test.*", writes_then_fails, name="failer")
    event = emit_committed("test.thing.created", aggregate_id="1")

    relay_batch()

    assert list(Organization.objects.values_list("code", flat=True)) == ["KEPT"]
    assert _runs(event) == {"writer": (HandlerRunStatus.DONE, 0), "failer": (HandlerRunStatus.FAILED, 1)}


@committed
def test_a_batchs_processed_markers_are_written_by_one_statement_for_the_calls_that_succeeded(handlers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first, second = Recorder("first"), Recorder("second")
    handlers("test.*", first, name="first")
    handlers("test.*", second, name="second")
    events = [emit_committed("test.thing.created", aggregate_id=str(n)) for n in range(3)]
    second.failing.add(str(events[1].pk))

    with CaptureQueriesContext(connection) as queries:
        result = relay_batch()

    assert (result.claimed, result.delivered, result.failed) == (3, 2, 1)
    assert [_runs(event) for event in events] == [
        {"first": (HandlerRunStatus.DONE, 0), "second": (HandlerRunStatus.DONE, 0)},
        {"first": (HandlerRunStatus.DONE, 0), "second": (HandlerRunStatus.FAILED, 1)},
        {"first": (HandlerRunStatus.DONE, 0), "second": (HandlerRunStatus.DONE, 0)},
    ]
    markers = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT INTO events_handlerrun")]
    assert len(markers) == 1  # the five that succeeded, together, before the batch commits
    assert markers[0].count("'DONE', 0, ''") == 5
    # Redelivered, the failed call runs again alone and its FAILED run turns DONE.
    second.failing.clear()
    _time_passes(events[1])
    relay_batch()
    assert _runs(events[1]) == {"first": (HandlerRunStatus.DONE, 0), "second": (HandlerRunStatus.DONE, 1)}
    assert (first.calls, second.calls) == (3, 4)


# --- failures, backoff, dead letters -----------------------------------------------------------
@committed
def test_a_handler_breaking_a_deferred_foreign_key_fails_alone_and_not_the_whole_batch(handlers):
    """Django's foreign keys are checked at commit (DEFERRABLE INITIALLY DEFERRED): the relay must
    check them when the handler's savepoint ends, or one bad handler poisons every batch it is in."""
    recorder = Recorder("r")

    def links_a_user_to_a_missing_organization(envelope) -> None:
        if envelope.aggregate_id == "bad":
            User.objects.create(user_type=UserType.INTERNAL, organization_id=uuid.uuid4(), email="ghost@example.com")

    handlers("test.*", recorder, name="r")
    handlers("test.*", links_a_user_to_a_missing_organization, name="linker")
    good = emit_committed("test.thing.created", aggregate_id="good")
    bad = emit_committed("test.thing.created", aggregate_id="bad")

    result = relay_batch()

    assert (result.claimed, result.delivered, result.failed) == (2, 1, 1)
    assert (_status(good), _status(bad)) == (EventStatus.DISPATCHED, EventStatus.FAILED)
    assert User.objects.filter(email="ghost@example.com").count() == 0
    assert _runs(bad) == {"r": (HandlerRunStatus.DONE, 0), "linker": (HandlerRunStatus.FAILED, 1)}
    assert "IntegrityError" in OutboxEvent.objects.get(pk=bad.pk).last_error


@committed
def test_a_failing_handler_fails_the_event_with_backoff_and_the_others_are_not_run_again(handlers, settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 10.0
    steady, flaky = Recorder("steady"), Recorder("flaky")
    handlers("test.*", steady, name="steady")
    handlers("test.*", flaky, name="flaky")
    event = emit_committed("test.thing.created", aggregate_id="1")
    flaky.failing.add(str(event.id))
    before = timezone.now()

    result = relay_batch()

    after = timezone.now()
    assert (result.claimed, result.delivered, result.failed, result.dead) == (1, 0, 1, 0)
    event.refresh_from_db()
    assert (event.status, event.attempts, event.dispatched_at, event.claimed_until) == (
        EventStatus.FAILED,
        1,
        None,
        None,
    )
    assert before + timedelta(seconds=5) <= event.next_attempt_at < after + timedelta(seconds=15)
    assert event.last_error == "flaky: RuntimeError: flaky cannot handle test.thing.created"
    assert _runs(event) == {"steady": (HandlerRunStatus.DONE, 0), "flaky": (HandlerRunStatus.FAILED, 1)}
    assert HandlerRun.objects.get(event=event, handler="flaky").last_error == (
        "RuntimeError: flaky cannot handle test.thing.created"
    )
    assert (steady.calls, flaky.calls) == (1, 1)

    # Backing off: not due yet.
    assert relay_batch() == BatchResult()

    _time_passes(event)
    flaky.failing.clear()
    assert relay_batch() == BatchResult(claimed=1, delivered=1)

    assert (steady.calls, flaky.calls) == (1, 2)  # the processed marker kept `steady` from running twice
    assert _status(event) == EventStatus.DISPATCHED
    assert _runs(event) == {"steady": (HandlerRunStatus.DONE, 0), "flaky": (HandlerRunStatus.DONE, 1)}


@committed
def test_after_the_last_attempt_the_event_and_the_failing_handler_are_dead_lettered(handlers, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    steady, broken = Recorder("steady"), Recorder("broken")
    handlers("test.*", steady, name="steady")
    handlers("test.*", broken, name="broken")
    event = emit_committed("test.thing.created", aggregate_id="1")
    broken.failing.add(str(event.id))

    outcomes = []
    with capture_logs() as logs:
        for _ in range(3):
            result = relay_batch()
            outcomes.append((result.failed, result.dead))
            _time_passes(event)

    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    # The log names the failing handler and the exception class, not the message (it may quote data).
    failures = [(e["event"], e["attempts"], e["failed"]) for e in logs if e["event"].startswith("events.d")]
    assert failures == [
        ("events.dispatch_failed", 1, ["broken: RuntimeError"]),
        ("events.dispatch_failed", 2, ["broken: RuntimeError"]),
        ("events.dead_lettered", 3, ["broken: RuntimeError"]),
    ]
    event.refresh_from_db()
    assert (event.status, event.attempts) == (EventStatus.DEAD, 3)
    assert event.last_error == "broken: RuntimeError: broken cannot handle test.thing.created"
    assert _runs(event) == {"steady": (HandlerRunStatus.DONE, 0), "broken": (HandlerRunStatus.DEAD, 3)}
    # Dead letters stay put until someone replays them.
    assert relay_batch() == BatchResult()
    assert (steady.calls, broken.calls) == (1, 3)


@committed
def test_replay_requeues_a_dead_event_and_only_the_handler_that_failed_runs_again(handlers, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    steady, broken = Recorder("steady"), Recorder("broken")
    handlers("test.*", steady, name="steady")
    handlers("test.*", broken, name="broken")
    event = emit_committed("test.thing.created", aggregate_id="1")
    broken.failing.add(str(event.id))
    relay_batch()
    assert _status(event) == EventStatus.DEAD
    broken.failing.clear()  # the bug is fixed and deployed

    replayed = event_replay(actor=SuperAdminFactory(), event_id=event.id)

    assert (replayed.status, replayed.attempts, replayed.claimed_until) == (EventStatus.PENDING, 0, None)
    assert _runs(event) == {"steady": (HandlerRunStatus.DONE, 0), "broken": (HandlerRunStatus.FAILED, 0)}
    assert relay_batch() == BatchResult(claimed=1, delivered=1)
    assert steady.seen == [str(event.id)]
    assert (steady.calls, broken.calls) == (1, 2)
    assert broken.seen == [str(event.id)]
    assert _status(event) == EventStatus.DISPATCHED
    assert _runs(event)["broken"][0] == HandlerRunStatus.DONE


@pytest.mark.django_db
@pytest.mark.parametrize("status", [EventStatus.PENDING, EventStatus.FAILED, EventStatus.DISPATCHED])
def test_replaying_an_event_that_is_not_dead_is_refused_and_changes_nothing(status):
    event = emit_committed("test.thing.created", aggregate_id="1")
    OutboxEvent.objects.filter(pk=event.pk).update(status=status, attempts=2, last_error="earlier")
    before = OutboxEvent.objects.values().get(pk=event.pk)

    with pytest.raises(EventNotReplayable, match=f"Event {event.id} is {status}, not DEAD."):
        event_replay(actor=SuperAdminFactory(), event_id=event.id)

    assert OutboxEvent.objects.values().get(pk=event.pk) == before


@pytest.mark.django_db
def test_only_a_holder_of_the_replay_permission_of_the_events_organization_replays_it():
    from django.contrib.auth.models import Permission

    event = emit_committed("test.thing.created", aggregate_id="1")
    OutboxEvent.objects.filter(pk=event.pk).update(status=EventStatus.DEAD, attempts=8)
    before = OutboxEvent.objects.values().get(pk=event.pk)
    staff = UserFactory()  # an organization's staff member without the permission
    granted = UserFactory()
    granted.user_permissions.add(Permission.objects.get(codename="replay_outboxevent"))
    granted = User.objects.get(pk=granted.pk)  # a fresh permission cache

    with pytest.raises(PermissionDenied, match=r"You need the permission events\.replay_outboxevent\."):
        event_replay(actor=staff, event_id=event.id)
    # The permission alone does not reach an event that is not of the holder's organization.
    with pytest.raises(PermissionDenied, match=r"This event belongs to another organization\."):
        event_replay(actor=granted, event_id=event.id)
    assert OutboxEvent.objects.values().get(pk=event.pk) == before

    OutboxEvent.objects.filter(pk=event.pk).update(organization_id=granted.organization_id)
    assert event_replay(actor=granted, event_id=event.id).status == EventStatus.PENDING


# --- per-aggregate order -----------------------------------------------------------------------


@committed
def test_a_failing_event_holds_back_later_events_of_its_aggregate_only(handlers):
    recorder = Recorder("r")
    handlers("test.*", recorder, name="r")
    first = emit_committed("test.bale.weighed", aggregate_id="bale-1")
    second = emit_committed("test.bale.graded", aggregate_id="bale-1")
    other = emit_committed("test.bale.weighed", aggregate_id="bale-2")
    recorder.failing.add(str(first.id))

    relay_until_idle(max_seconds=10)

    assert recorder.seen == [str(other.id)]
    assert (_status(first), _status(second), _status(other)) == (
        EventStatus.FAILED,
        EventStatus.PENDING,
        EventStatus.DISPATCHED,
    )

    recorder.failing.clear()
    _time_passes(first)
    relay_until_idle(max_seconds=10)

    assert recorder.seen == [str(other.id), str(first.id), str(second.id)]
    assert (_status(first), _status(second)) == (EventStatus.DISPATCHED, EventStatus.DISPATCHED)


@committed
def test_events_of_one_aggregate_are_handled_in_position_order_across_batches(handlers):
    recorder = Recorder("r")
    handlers("test.*", recorder, name="r")
    events = [emit_committed("test.bale.moved", aggregate_id="bale-1", payload={"n": n}) for n in range(5)]

    relay_until_idle(max_seconds=10, batch_size=2)

    assert recorder.seen == [str(e.id) for e in events]


@committed
def test_a_dead_lettered_event_no_longer_holds_back_its_aggregate(handlers, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    recorder = Recorder("r")
    handlers("test.*", recorder, name="r")
    first = emit_committed("test.bale.weighed", aggregate_id="bale-1")
    second = emit_committed("test.bale.graded", aggregate_id="bale-1")
    recorder.failing.add(str(first.id))

    relay_until_idle(max_seconds=10)

    assert (_status(first), _status(second)) == (EventStatus.DEAD, EventStatus.DISPATCHED)
    assert recorder.seen == [str(second.id)]


# --- sinks ---------------------------------------------------------------------------------------


@committed
def test_sinks_get_the_delivered_events_and_a_failing_sink_retries_the_event_without_rerunning_handlers(
    handlers, settings
):
    recorder = Recorder("r")
    handlers("test.*", recorder, name="r")
    sunk: list[list[str]] = []
    broken = {"on": True}

    def sink(envelopes) -> None:
        sunk.append([e.id for e in envelopes])
        if broken["on"]:
            raise ConnectionError("channel layer down")

    registry.register_sink("test-sink", sink)  # the `handlers` fixture restores the sinks
    ok = emit_committed("test.thing.created", aggregate_id="1")
    failing = emit_committed("test.thing.created", aggregate_id="2")
    recorder.failing.add(str(failing.id))

    relay_batch()

    assert sunk == [[str(ok.id)]]  # the handler-failed event is not fanned out
    assert (_status(ok), _status(failing)) == (EventStatus.FAILED, EventStatus.FAILED)
    ok.refresh_from_db()
    assert ok.last_error == "sink:test-sink: ConnectionError: channel layer down"

    broken["on"] = False
    recorder.failing.clear()
    _time_passes(ok)
    _time_passes(failing)
    relay_batch()

    assert sorted(sunk[1]) == sorted([str(ok.id), str(failing.id)])
    assert recorder.calls == 3  # ok once, failing twice; the sink retry did not rerun the handler
    assert (_status(ok), _status(failing)) == (EventStatus.DISPATCHED, EventStatus.DISPATCHED)


# --- leases ----------------------------------------------------------------------------------------


@committed
def test_a_claimed_event_is_not_claimed_again_until_its_lease_runs_out(settings):
    settings.OUTBOX_CLAIM_LEASE_SECONDS = 1
    event = emit_committed("test.thing.created", aggregate_id="1")

    first = claim_batch(10)
    second = claim_batch(10)

    assert [e.id for e in first] == [event.id]
    assert second == []
    time.sleep(1.2)  # the relay that claimed it died; its lease runs out
    assert [e.id for e in claim_batch(10)] == [event.id]


@committed
def test_a_claim_inside_a_running_claim_transaction_skips_the_locked_rows():
    event = emit_committed("test.thing.created", aggregate_id="1")
    claimed_elsewhere: list = []
    with transaction.atomic():
        # Lock the row as another relay's claim would, then claim from a second connection.
        OutboxEvent.objects.select_for_update().get(pk=event.pk)
        thread = threading.Thread(target=lambda: claimed_elsewhere.append(_claim_and_close()))
        thread.start()
        thread.join(timeout=10)

    assert claimed_elsewhere == [[]]
    assert [e.id for e in claim_batch(10)] == [event.id]


def _claim_and_close() -> list:
    from django.db import connections

    try:
        return claim_batch(10)
    finally:
        connections.close_all()


def test_backoff_stays_within_half_and_one_and_a_half_of_the_doubling_base(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 2.0
    settings.OUTBOX_RETRY_MAX_SECONDS = 20.0
    for attempt, base in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (5, 20.0), (12, 20.0)]:
        samples = [backoff_seconds(attempt) for _ in range(200)]
        assert all(base * 0.5 <= s < base * 1.5 for s in samples), (attempt, min(samples), max(samples))
