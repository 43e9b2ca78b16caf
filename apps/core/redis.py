"""One shared Redis client for counters and short-lived keys (lockouts, tickets)."""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    # A blocking pool: past REDIS_MAX_CONNECTIONS a request waits up to REDIS_POOL_TIMEOUT_SECONDS
    # for a connection to come free. redis-py's default pool raised "Too many connections" at
    # once, which a burst of 200 parallel requests turned into 500s (the caller check reads Redis
    # on every request); a wait that runs out is a ConnectionError, answered 503 redis_busy.
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=settings.REDIS_MAX_CONNECTIONS,
        timeout=settings.REDIS_POOL_TIMEOUT_SECONDS,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        decode_responses=True,
    )
    return redis.Redis(connection_pool=pool)


def get_redis() -> redis.Redis:
    # Keyed by URL so tests that point REDIS at another server get another client.
    return _client(settings.REDIS_CACHE_URL)
