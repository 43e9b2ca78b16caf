"""A relay worker killed with SIGKILL in the middle of a batch loses no event: its claims run out
with their lease and the next worker delivers them (at least once; ARCHITECTURE section 8).

Real processes: two Celery workers on this test's database and broker, one after the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from apps.events.emit import emit
from apps.events.models import EventStatus, HandlerRun, HandlerRunStatus, OutboxEvent
from apps.events.tasks import relay_outbox
from apps.events.tests.sigkill_handlers import HANDLER_NAME

EVENTS = 200
LEASE_SECONDS = 2
BATCH_SIZE = 20  # about one second of handler time per batch


def _test_database_url() -> str:
    """DATABASE_URL pointing at pytest-django's test database (test_<name>[_gwN])."""
    db = settings.DATABASES["default"]
    if os.environ.get("DATABASE_URL"):
        return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{db['NAME']}"))
    auth = quote(db["USER"], safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _worker_env(**extra: str) -> dict[str, str]:
    # REDIS_URL and PYTEST_XDIST_WORKER pass through unchanged, so the worker's settings derive
    # the same broker database as this test's settings.CELERY_BROKER_URL.
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cotton_erp.settings",
        "DATABASE_URL": _test_database_url(),
        "COTTON_EXTRA_HANDLER_MODULES": "apps.events.tests.sigkill_handlers",
        "OUTBOX_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
        "OUTBOX_BATCH_SIZE": str(BATCH_SIZE),
        "OUTBOX_RELAY_MAX_SECONDS": "60",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _start_worker(log_path: Path, **env: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "cotton_erp", "worker", "--pool", "solo"]
    command += ["--concurrency", "1", "-Q", "celery", "--without-gossip", "--without-mingle"]
    command += ["--loglevel", "INFO", "--hostname", f"sigkill-{os.getpid()}-{log_path.stem}@%h"]
    log = log_path.open("wb")
    return subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=_worker_env(**env), stdout=log, stderr=subprocess.STDOUT
    )


def _stop(worker: subprocess.Popen | None) -> None:
    if worker is not None and worker.poll() is None:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def _wait_for(condition: Callable[[], bool], *, timeout: float, what: str, log: Path, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; worker log:\n{tail}")
        time.sleep(every)


def _seen_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sigkill_seen")
        return cursor.fetchone()[0]


def _seen() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_id::text FROM sigkill_seen")
        return [row[0] for row in cursor.fetchall()]


def _claimed_pending_exists() -> bool:
    return OutboxEvent.objects.filter(status=EventStatus.PENDING, claimed_until__isnull=False).exists()


def _dispatched() -> int:
    return OutboxEvent.objects.filter(status=EventStatus.DISPATCHED).count()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_events_of_a_worker_killed_mid_batch_are_delivered_by_the_next_worker(tmp_path):
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.flushdb()  # no leftover relay hints from earlier tests of this xdist worker
    first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"
    first = second = None
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS sigkill_seen (event_id uuid, seen_at timestamptz)")
        cursor.execute("TRUNCATE sigkill_seen")
    try:
        with transaction.atomic():  # 40 bales, 5 events each; commit also queues a relay hint
            ids = {
                str(emit("test.sigkill.bale_moved", aggregate_type="test.bale", aggregate_id=f"bale-{n % 40}").id)
                for n in range(EVENTS)
            }

        # The first worker stops inside its 41st event's handler: two batches committed, the
        # third claimed and not committed when it is killed (timing alone raced: CI saw the kill
        # land between a commit and the next claim).
        first = _start_worker(first_log, SIGKILL_STALL_AFTER=str(2 * BATCH_SIZE))
        relay_outbox.delay()
        _wait_for(
            lambda: _seen_count() >= 2 * BATCH_SIZE and _claimed_pending_exists(),
            timeout=30,
            what="two committed batches and a third claimed",
            log=first_log,
        )
        time.sleep(0.5)  # nothing more commits: the worker is stalled in the third batch
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)

        assert first.returncode == -signal.SIGKILL
        broker_address = settings.CELERY_BROKER_URL.split("//", 1)[1].rsplit("@", 1)[-1]  # host:port/db
        assert f"Connected to redis://:**@{broker_address}\n" in first_log.read_text(errors="replace")
        delivered_before_the_kill = _seen_count()
        assert delivered_before_the_kill == 2 * BATCH_SIZE
        assert _dispatched() < EVENTS
        # The batch the worker was in the middle of stays claimed until its lease runs out.
        assert _claimed_pending_exists()

        second = _start_worker(second_log)
        relay_outbox.delay()
        swept_at = time.monotonic()

        def all_dispatched() -> bool:
            nonlocal swept_at
            if time.monotonic() - swept_at > LEASE_SECONDS:  # what beat's sweeper does every 2 s
                relay_outbox.delay()
                swept_at = time.monotonic()
            return _dispatched() == EVENTS

        _wait_for(all_dispatched, timeout=60, what="every event dispatched", log=second_log, every=0.2)
        seen = _seen()
    finally:
        _stop(first)
        _stop(second)
        broker.flushdb()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS sigkill_seen")

    assert set(seen) == ids  # at least once: every committed event reached the handler
    # ...and here exactly once: the killed batch's rows rolled back with its processed markers.
    assert len(seen) == EVENTS
    done = set(
        HandlerRun.objects.filter(handler=HANDLER_NAME, status=HandlerRunStatus.DONE).values_list("event_id", flat=True)
    )
    assert {str(event_id) for event_id in done} == ids
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {EventStatus.DISPATCHED}
