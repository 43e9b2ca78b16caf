"""Readiness checks of the things a request or a task needs: database, Redis, Celery broker."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection
from kombu import Connection


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    error: str | None = None


def _timed(name: str, probe: Callable[[], None]) -> CheckResult:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # a readiness probe reports any failure instead of raising
        return CheckResult(name, False, round((time.perf_counter() - started) * 1000, 1), type(exc).__name__)
    return CheckResult(name, True, round((time.perf_counter() - started) * 1000, 1))


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis() -> None:
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    client = redis.Redis.from_url(settings.REDIS_CACHE_URL, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def _broker() -> None:
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    with Connection(
        settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options={"socket_timeout": timeout}
    ) as conn:
        # One attempt: kombu sleeps `interval_start` (2 s) before any retry, past our timeout.
        conn.ensure_connection(max_retries=0, timeout=timeout)


def run_readiness_checks() -> list[CheckResult]:
    return [_timed("database", _database), _timed("redis", _redis), _timed("celery_broker", _broker)]
