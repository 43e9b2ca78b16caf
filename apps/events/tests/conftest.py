"""Helpers for the outbox tests: an isolated handler registry, committed events, the feed horizon."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from apps.events import registry
from apps.events.emit import emit
from apps.events.models import OutboxEvent

Register = Callable[..., registry.RegisteredHandler]


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Register]:
    """`handlers(pattern, fn, name=...)` registers a test handler in a registry holding only the
    test's own handlers and sinks (apps may register theirs in ready()); all are unregistered after."""
    monkeypatch.setattr(registry, "_handlers", {})
    monkeypatch.setattr(registry, "_sinks", {})
    names: list[str] = []

    def _register(
        pattern: str, fn: registry.Handler, *, name: str, serial: str | None = None
    ) -> registry.RegisteredHandler:
        names.append(name)
        return registry.register_handler(pattern, fn, name=name, serial=serial)

    yield _register
    for name in names:
        registry.unregister_handler(name)


def emit_committed(
    event_type: str, *, aggregate_id: Any, aggregate_type: str = "test.thing", **kwargs: Any
) -> OutboxEvent:
    """Emit one event in its own committed transaction (the relay only sees committed rows)."""
    with transaction.atomic():
        return emit(event_type, aggregate_type=aggregate_type, aggregate_id=aggregate_id, **kwargs)


def visibility_horizon() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]


def wait_until_final(*events: OutboxEvent, timeout: float = 120.0) -> None:
    """The feed shows an event once no older transaction anywhere on the server is still running.
    Other sessions hold the horizon back: the other test worker runs each non-transactional test
    inside one transaction, so a long test there (a sweep, a browser test) holds it for as long as
    it runs (a full run once saw more than 20 s). The wait ends as soon as the horizon passes."""
    wanted = max(event.txid for event in events)
    deadline = time.monotonic() + timeout
    while visibility_horizon() <= wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"the visibility horizon did not pass txid {wanted} within {timeout}s")
        time.sleep(0.02)
