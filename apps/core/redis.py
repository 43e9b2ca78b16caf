"""One shared Redis client for counters and short-lived keys (lockouts, tickets)."""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0, decode_responses=True)


def get_redis() -> redis.Redis:
    # Keyed by URL so tests that point REDIS at another server get another client.
    return _client(settings.REDIS_CACHE_URL)
