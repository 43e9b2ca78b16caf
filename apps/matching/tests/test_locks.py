"""lock_posting_runs takes the matching runs' lock and every posting's run lock, in one statement."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction

from apps.events.locks import serial_lock_key
from apps.matching.locks import MATCHING_SERIAL, lock_posting_run, lock_posting_runs, try_lock_posting_run


def _held() -> set[int]:
    """The advisory locks (64-bit keys) this transaction holds: pg_locks shows a key's two 32-bit
    halves, put together again as the bigint hashtextextended returned."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks "
            "WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objsubid = 1"
        )
        return {row[0] for row in cursor.fetchall()}


def _keys(*texts: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT hashtextextended(k, 0) FROM unnest(%s::text[]) k", [list(texts)])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_the_runs_lock_and_each_posting_lock_are_held_by_the_transaction():
    first, second = uuid.uuid4(), uuid.uuid4()
    with transaction.atomic():
        assert _held() == set()
        lock_posting_runs("requirement", [first, second])
        assert _held() == _keys(
            serial_lock_key(MATCHING_SERIAL), f"matching.requirement:{first}", f"matching.requirement:{second}"
        )
        lock_posting_run("availability", first)
        assert _held() == _keys(
            serial_lock_key(MATCHING_SERIAL),
            f"matching.requirement:{first}",
            f"matching.requirement:{second}",
            f"matching.availability:{first}",
        )
        assert try_lock_posting_run("requirement", first) is True  # held already, by this transaction
