"""Locks of the matching app, and its lock order.

Every matching run (a handler, the sweep, the seed) is one transaction that takes, in this order:

1. `lock_matching_runs()`: one run at a time across all workers. A run re-scores one side of the
   market and upserts proposals of many pairs; the relay runs a batch of events in one
   transaction, so two workers each holding the pairs of their earlier events and wanting the
   other's deadlocked (seen at start-up: 4 of 406 seed events retried with "deadlock detected").
   The relay takes it before its batch's first handler (`serial=MATCHING_SERIAL`), so a worker
   waiting for it holds nothing; taking it again inside the run is free.
2. `lock_posting_run(kind, id)`: the posting's run (a later run reads after the earlier commits);
   `lock_posting_runs` takes 1. and 2. for many postings in one statement (the sweep's blocks).
3. The postings FOR SHARE, availabilities before requirements (the trade desk's order), then the
   proposals, upserted in (requirement, availability) order.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from django.db import connection

from apps.events.locks import lock_serial, serial_lock_key

MATCHING_SERIAL = "matching"


def lock_matching_runs() -> None:
    lock_serial(MATCHING_SERIAL)


def _posting_key(kind: str, posting_id: UUID) -> str:
    return f"matching.{kind}:{posting_id}"


def lock_posting_run(kind: str, posting_id: UUID) -> None:
    """The run lock of one posting (`kind` is "requirement" or "availability"), after the
    matching runs' lock."""
    lock_posting_runs(kind, [posting_id])


def lock_posting_runs(kind: str, posting_ids: Sequence[UUID]) -> None:
    """The matching runs' lock, then the run lock of each posting in the order given, in one
    statement (a SELECT evaluates its target list left to right: the lock order above holds)."""
    keys = [serial_lock_key(MATCHING_SERIAL), *(_posting_key(kind, posting_id) for posting_id in posting_ids)]
    locks = ", ".join(["pg_advisory_xact_lock(hashtextextended(%s, 0))"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {locks}", keys)


def try_lock_posting_run(kind: str, posting_id: UUID) -> bool:
    """The run lock of a posting if free now (a run holding it re-reads the offers under lock)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [_posting_key(kind, posting_id)])
        locked: bool = cursor.fetchone()[0]
    return locked


_SWEEP_KEY = "matching.sweep"


def try_lock_sweep() -> bool:
    """One sweep at a time (a session lock: the sweep runs many transactions). False when a sweep
    is running; the caller then skips this round."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [_SWEEP_KEY])
        locked: bool = cursor.fetchone()[0]
    return locked


def unlock_sweep() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [_SWEEP_KEY])
