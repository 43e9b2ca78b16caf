"""Test-only handlers for a Celery worker started by test_worker_sigkill.py.

Handlers live in the process that runs the relay, so the test's worker imports this module
through COTTON_EXTRA_HANDLER_MODULES (apps/events/apps.py). The handler is slow on purpose, so
the test can kill the worker in the middle of a batch, and records each event it handles in the
raw table `sigkill_seen`, which the test creates.
"""

from __future__ import annotations

import time

from django.db import connection

from apps.events.envelope import EventEnvelope
from apps.events.registry import register_handler

HANDLER_NAME = "tests.sigkill.record_seen"
EVENT_PATTERN = "test.sigkill.*"
SECONDS_PER_EVENT = 0.05


def record_seen(envelope: EventEnvelope) -> None:
    time.sleep(SECONDS_PER_EVENT)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO sigkill_seen (event_id, seen_at) VALUES (%s, clock_timestamp())", [envelope.id])


def register() -> None:
    register_handler(EVENT_PATTERN, record_seen, name=HANDLER_NAME)


register()
