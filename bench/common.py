"""Shared plumbing of the benchmarks: Django setup, a run tag on every row a benchmark makes,
cleanup by that tag, statistics, an isolated handler registry and a fence around rows of others.

Every benchmark runs against the configured database (not a test database), so it only ever
creates rows carrying this run's tag and deletes exactly those rows afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cotton_erp.settings")

import django  # noqa: E402

django.setup()
# The benchmark's own output is its table and JSON: no info logs (task_enqueued, per event).
logging.disable(logging.INFO)

from django.db import connection, connections, transaction  # noqa: E402

from apps.events import registry  # noqa: E402

# One tag per run: in aggregate ids, organization codes, e-mails and endpoint URLs, so cleanup
# deletes exactly what this run made (and two runs on one database never see each other's rows).
RUN_TAG = uuid.uuid4().hex[:10]
BENCH_AGGREGATE_PREFIX = "bench."


def tagged(kind: str, n: int | str) -> str:
    return f"{RUN_TAG}-{kind}-{n}"


# --- Statistics ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


def summary_ms(samples_s: Sequence[float]) -> dict[str, float | int]:
    """p50/p90/p99/max/mean in milliseconds of samples in seconds."""
    ms = [s * 1000 for s in samples_s]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


class BenchmarkFailed(RuntimeError):
    """A benchmark's own check failed: its figures would not mean what they say."""


def require(condition: object, message: str) -> None:
    """A check that stays under `python -O` (unlike assert)."""
    if not condition:
        raise BenchmarkFailed(message)


def ratio(figure: float, baseline: float) -> float | None:
    if not baseline:
        return None
    return round(figure / baseline, 4)


# --- Database helpers -----------------------------------------------------------------------


def execute(sql: str, params: Sequence[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fetchall(sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetchone(sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def insert_outbox_rows(
    count: int,
    *,
    event_type: str,
    aggregate_type: str,
    kind: str,
    organization_id: Any = None,
) -> int:
    """Pre-load `count` PENDING events in one INSERT ... SELECT, one aggregate each; positions
    from the outbox sequence and txid = pg_current_xact_id(), as emit() writes them."""
    with transaction.atomic():
        return execute(
            """
            INSERT INTO events_outboxevent (
                id, position, txid, type, version, occurred_at, organization_id, partner_id,
                aggregate_type, aggregate_id, actor_id, correlation_id, payload,
                status, attempts, next_attempt_at, claimed_until, last_error, dispatched_at
            )
            SELECT gen_random_uuid(), nextval('events_outbox_position_seq'),
                   pg_current_xact_id()::text::bigint, %s, 1, now(), %s, NULL,
                   %s, %s || g, NULL, '', jsonb_build_object('n', g),
                   'PENDING', 0, now(), NULL, '', NULL
            FROM generate_series(1, %s) AS g
            """,
            [event_type, organization_id, aggregate_type, f"{RUN_TAG}-{kind}-", count],
        )


def delete_outbox_rows() -> int:
    """Delete this run's events and their handler runs (the database has no cascade)."""
    own = "SELECT id FROM events_outboxevent WHERE aggregate_type LIKE %s AND aggregate_id LIKE %s"
    params = [BENCH_AGGREGATE_PREFIX + "%", RUN_TAG + "-%"]
    with transaction.atomic():
        execute(f"DELETE FROM events_handlerrun WHERE event_id IN ({own})", params)
        return execute("DELETE FROM events_outboxevent WHERE aggregate_type LIKE %s AND aggregate_id LIKE %s", params)


def vacuum(*tables: str) -> None:
    """VACUUM (ANALYZE) the tables (autocommit: no transaction): the dead tuples of earlier
    rounds or runs must not slow the timed part. Autovacuum may be off (it was on the machine
    these figures come from), and then nothing else removes them: 276,000 dead proposals made
    each empty lookup of a sweep block take 110 ms."""
    with contextlib.suppress(Exception), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")


def vacuum_outbox() -> None:
    """Keep the dead tuples of one benchmark from slowing the next."""
    vacuum("events_outboxevent", "events_handlerrun")


# --- Organizations and users ------------------------------------------------------------------


def create_organization(purpose: str) -> Any:
    from apps.organizations.models import Organization

    code = f"BN-{RUN_TAG[:8]}-{purpose[:4]}".upper()
    return Organization.objects.create(code=code, name=f"Bench {RUN_TAG} {purpose}")


def create_current_financial_year(organization: Any) -> Any:
    """The organization's financial year (April to March) holding today: the document series
    that number requirements and trades need one."""
    from datetime import date

    from django.utils import timezone

    from apps.organizations.models import FinancialYear

    today = timezone.localdate()
    start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    return FinancialYear.objects.create(
        organization=organization,
        start_date=start,
        end_date=date(start.year + 1, 3, 31),
        label=f"{start.year}-{(start.year + 1) % 100:02d}",
        is_active=True,
    )


def create_staff_users(organization: Any, count: int) -> list[Any]:
    """INTERNAL staff of `organization`, with unusable passwords (nothing to hash)."""
    from django.contrib.auth.hashers import make_password

    from apps.accounts.models import User, UserType

    unusable = make_password(None)
    users = [
        User(
            user_type=UserType.INTERNAL,
            organization=organization,
            email=f"bench-{RUN_TAG}-{n}@bench.invalid",
            full_name=f"Bench {n}",
            password=unusable,
            is_active=True,
        )
        for n in range(count)
    ]
    return User.objects.bulk_create(users)


def delete_organizations_and_users() -> dict[str, int]:
    """Delete this run's users and organizations, and their audit-history rows."""
    from apps.accounts.models import User
    from apps.organizations.models import Organization

    deleted: dict[str, int] = {}
    with transaction.atomic():
        org_ids = list(Organization.objects.filter(name__startswith=f"Bench {RUN_TAG} ").values_list("id", flat=True))
        user_ids = list(User.objects.filter(email__startswith=f"bench-{RUN_TAG}-").values_list("id", flat=True))
        if user_ids:
            execute("DELETE FROM accounts_userevent WHERE pgh_obj_id = ANY(%s)", [user_ids])
            deleted["users"] = execute("DELETE FROM accounts_user WHERE id = ANY(%s)", [user_ids])
        if org_ids:
            execute("DELETE FROM organizations_organizationevent WHERE pgh_obj_id = ANY(%s)", [org_ids])
            deleted["organizations"] = execute("DELETE FROM organizations_organization WHERE id = ANY(%s)", [org_ids])
    return deleted


# --- Isolation ----------------------------------------------------------------------------------


@contextlib.contextmanager
def isolated_registry(handlers: Sequence[tuple[str, Callable[..., None], str]] = ()) -> Iterator[None]:
    """Only the given handlers (pattern, fn, name) and no sinks for the duration; the apps'
    own handlers and sinks are unregistered, then registered again."""
    saved_handlers = dict(registry._handlers)
    saved_sinks = dict(registry._sinks)
    for name in saved_handlers:
        registry.unregister_handler(name)
    for name in saved_sinks:
        registry.unregister_sink(name)
    try:
        for pattern, fn, name in handlers:
            registry.register_handler(pattern, fn, name=name)
        yield
    finally:
        for _pattern, _fn, name in handlers:
            registry.unregister_handler(name)
        for handler in saved_handlers.values():
            registry.register_handler(handler.pattern, handler.fn, name=handler.name)
        for name, sink in saved_sinks.items():
            registry.register_sink(name, sink)


@contextlib.contextmanager
def fence_foreign_events() -> Iterator[int]:
    """Keep the relay away from undelivered events that are not this run's.

    The relay claims with `FOR UPDATE SKIP LOCKED`, so a second connection holding row locks
    on every other PENDING/FAILED event (without changing them) makes every relay skip them for
    the duration. Opened only when such events exist; yields how many were fenced. Events
    written by others while the benchmark runs are not fenced.
    """
    other = fetchone(
        "SELECT count(*) FROM events_outboxevent WHERE status IN ('PENDING', 'FAILED') "
        "AND NOT (aggregate_type LIKE %s AND aggregate_id LIKE %s)",
        [BENCH_AGGREGATE_PREFIX + "%", RUN_TAG + "-%"],
    )
    if not other or not other[0]:
        yield 0
        return
    import psycopg

    settings_dict = connection.settings_dict
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    fence = psycopg.connect(**params)
    try:
        with fence.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM events_outboxevent WHERE status IN ('PENDING', 'FAILED') "
                "AND NOT (aggregate_type LIKE %s AND aggregate_id LIKE %s) FOR UPDATE SKIP LOCKED",
                [BENCH_AGGREGATE_PREFIX + "%", RUN_TAG + "-%"],
            )
            fenced = len(cursor.fetchall())
        print(f"  fenced {fenced} undelivered events of others ({settings_dict['NAME']})", flush=True)
        yield fenced
    finally:
        fence.rollback()
        fence.close()


def close_db() -> None:
    connections.close_all()


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started
