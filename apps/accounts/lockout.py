"""API login lockout: 5 failures in 15 minutes lock the account (or the number) for 15 minutes.

Counters live in Redis so every web process sees the same count. Identifiers are hashed
before they become key names: keys are visible to anyone with Redis access and in its logs.
"""

from __future__ import annotations

import hashlib

from django.conf import settings

from apps.accounts.errors import LoginLocked
from apps.core.redis import get_redis


def _key(kind: str, identifier: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{identifier}".encode()).hexdigest()[:32]
    return f"cotton:login:{kind}:{digest}"


def ensure_not_locked(identifier: str) -> None:
    ttl = get_redis().ttl(_key("lock", identifier))
    if ttl and ttl > 0:
        raise LoginLocked(retry_after=int(ttl))


def record_failure(identifier: str) -> int:
    """Count one failed attempt; lock when the limit is reached. Returns the count in the window."""
    client = get_redis()
    fail_key = _key("fail", identifier)
    pipe = client.pipeline()
    pipe.incr(fail_key)
    pipe.expire(fail_key, settings.LOGIN_FAILURE_WINDOW_SECONDS, nx=True)
    count = int(pipe.execute()[0])
    if count >= settings.LOGIN_FAILURE_LIMIT:
        client.set(_key("lock", identifier), "1", ex=settings.LOGIN_LOCKOUT_SECONDS)
        client.delete(fail_key)
    return count


def clear_failures(identifier: str) -> None:
    get_redis().delete(_key("fail", identifier))
