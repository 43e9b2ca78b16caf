"""API login lockout: 5 failures in 15 minutes lock the account (or the number) for 15 minutes.

Counters live in Redis so every web process sees the same count. Identifiers are hashed
before they become key names: keys are visible to anyone with Redis access and in its logs.

Every attempt takes a numbered slot BEFORE its password or code is evaluated, in one Lua script
(check the lock, count, refuse past the limit: atomic in Redis), so parallel attempts cannot all
pass the check while the first ones are still being hashed (issue 14). The counter holds the
attempts in flight plus the failures of the window; a refused attempt gives its slot back at once,
a failure keeps it (the one that fills the last slot locks), a success clears the count, and an
attempt that ended neither way (disabled account, expired code) gives its slot back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

from apps.accounts.errors import LoginLocked
from apps.core.redis import get_redis

# KEYS: lock, fail. ARGV: limit, window seconds. Returns the slot (>= 1), or -seconds to wait.
_TAKE_SLOT = """
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then return -ttl end
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[2])
  local wait = redis.call('TTL', KEYS[2])
  if wait < 1 then wait = 1 end
  return -wait
end
return n
"""

# KEYS: fail. Gives one slot back if the count still exists (a success may have cleared it).
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


def _key(kind: str, identifier: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{identifier}".encode()).hexdigest()[:32]
    return f"cotton:login:{kind}:{digest}"


@dataclass(frozen=True)
class Attempt:
    identifier: str
    slot: int


def ensure_not_locked(identifier: str) -> None:
    """For requests that are not themselves attempts (asking for a new code)."""
    ttl = get_redis().ttl(_key("lock", identifier))
    if ttl and ttl > 0:
        raise LoginLocked(retry_after=int(ttl))


def attempt_begin(identifier: str) -> Attempt:
    """Take a slot for one attempt, or raise LoginLocked (429) when locked or all slots are taken."""
    client = get_redis()
    result = int(
        client.eval(
            _TAKE_SLOT,
            2,
            _key("lock", identifier),
            _key("fail", identifier),
            settings.LOGIN_FAILURE_LIMIT,
            settings.LOGIN_FAILURE_WINDOW_SECONDS,
        )
    )
    if result < 0:
        raise LoginLocked(retry_after=-result)
    return Attempt(identifier=identifier, slot=result)


def attempt_failed(attempt: Attempt) -> None:
    """The password or code was wrong: the slot stays counted; the last slot's failure locks."""
    if attempt.slot >= settings.LOGIN_FAILURE_LIMIT:
        client = get_redis()
        client.set(_key("lock", attempt.identifier), "1", ex=settings.LOGIN_LOCKOUT_SECONDS)
        client.delete(_key("fail", attempt.identifier))


def attempt_succeeded(attempt: Attempt) -> None:
    """Signed in: the failures before it are forgotten."""
    get_redis().delete(_key("fail", attempt.identifier))


def attempt_abandoned(attempt: Attempt) -> None:
    """Neither right nor wrong (disabled account, no code to check): the slot is given back."""
    get_redis().eval(_GIVE_BACK, 1, _key("fail", attempt.identifier))
