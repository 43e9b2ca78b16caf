"""Test-only handlers for a Celery worker started by test_worker_sigkill.py.

Handlers live in the process that runs the relay, so the test's worker imports this module
through COTTON_EXTRA_HANDLER_MODULES (apps/events/apps.py). The handler records each event it
handles in the raw table `sigkill_seen`, which the test creates. With SIGKILL_STALL_AFTER=n in
its environment, a worker stops in the handler of its (n+1)-th event until it is killed: then
the test kills it in the middle of a batch for certain, not by timing.
"""

from __future__ import annotations

import os
import time

from django.db import connection

from apps.events.envelope import EventEnvelope
from apps.events.registry import register_handler

HANDLER_NAME = "tests.sigkill.record_seen"
EVENT_PATTERN = "test.sigkill.*"
SECONDS_PER_EVENT = 0.05
STALL_AFTER = int(os.environ.get("SIGKILL_STALL_AFTER", "0"))
_handled = 0


def record_seen(envelope: EventEnvelope) -> None:
    global _handled
    if STALL_AFTER and _handled >= STALL_AFTER:
        time.sleep(300)  # until the test kills this worker
    _handled += 1
    time.sleep(SECONDS_PER_EVENT)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO sigkill_seen (event_id, seen_at) VALUES (%s, clock_timestamp())", [envelope.id])


def register() -> None:
    register_handler(EVENT_PATTERN, record_seen, name=HANDLER_NAME)


register()
