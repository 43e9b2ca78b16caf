"""Event handlers for the Celery worker that bench/latency.py starts.

Handlers live in the process that runs the relay, so the benchmark's worker imports this module
through COTTON_EXTRA_HANDLER_MODULES=bench.handlers (apps/events/apps.py). The handler records
when it ran (the database clock, `clock_timestamp()`) in the table `bench_latency`, which the
benchmark creates and drops. Import nothing from bench.common here: it sets Django up itself.
"""

from __future__ import annotations

from django.db import connection

from apps.events.envelope import EventEnvelope
from apps.events.registry import register_handler

HANDLER_NAME = "bench.latency.record_handled"
EVENT_PATTERN = "bench.latency.*"
TABLE = "bench_latency"


def record_handled(envelope: EventEnvelope) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (event_id, handled_at) VALUES (%s, clock_timestamp())",
            [envelope.id],
        )


register_handler(EVENT_PATTERN, record_handled, name=HANDLER_NAME)
