"""Who a caller is, resolved once per user and kept in this process (issue 15): the user row a
JWT names, the partner membership. An entry is only served while the user's **version** in Redis
is the one it was read under, and every change to what a caller may do replaces that version
at once and again when its transaction commits (`caller_changed`): revocation, deactivation, a membership or
partner change. So no cached answer outlives a permission change: the next request reads the
new version (one Redis round trip, which the JWT check makes anyway) and loads afresh.

Versions are random tokens, never counters: after Redis loses its data a missing version is
replaced by a new random one, so an entry read under an older version can never match again.
A version is never cached without one (no Redis, no cache: the caller then fails as before).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction

from apps.core.redis import get_redis

T = TypeVar("T")

_PREFIX = "cotton:caller:v:"
# Long enough to be warm across a working day; an expired version only costs a reload.
VERSION_TTL_SECONDS = 7 * 24 * 3600
# Entries per process; past it the cache starts again (callers are few next to requests).
MAX_ENTRIES = 20_000

_entries: dict[tuple[str, str], tuple[str, Any]] = {}


def _key(user_id: object) -> str:
    return f"{_PREFIX}{user_id}"


def caller_version(user_id: object, *, also: Sequence[str] = ()) -> tuple[str, list[Any]]:
    """The user's current version, and the values of the `also` keys read in the same round trip
    (the JWT check asks whether the token's session family was revoked)."""
    redis = get_redis()
    version, *values = redis.mget([_key(user_id), *also])
    if version is None:
        # First use, expiry or a Redis that lost its data: a fresh random version (NX: a
        # concurrent request's wins, and both read the winner).
        redis.set(_key(user_id), uuid.uuid4().hex, ex=VERSION_TTL_SECONDS, nx=True)
        version = redis.get(_key(user_id))
    return str(version), values


def cached(kind: str, user_id: object, version: str, load: Callable[[], T]) -> T:
    """`load()`'s answer for this user, from this process while `version` is current."""
    if not settings.CALLER_CACHE_ENABLED:
        return load()
    key = (kind, str(user_id))
    entry = _entries.get(key)
    if entry is not None and entry[0] == version:
        return entry[1]  # type: ignore[no-any-return]
    value = load()
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[key] = (version, value)
    return value


def _bump(user_ids: Iterable[object]) -> None:
    keys = {_key(user_id) for user_id in user_ids if user_id is not None}
    if not keys:
        return
    pipe = get_redis().pipeline(transaction=False)
    for key in keys:
        pipe.set(key, uuid.uuid4().hex, ex=VERSION_TTL_SECONDS)
    pipe.execute()


def caller_changed(user_ids: Iterable[object]) -> None:
    """What these users may do changed: replace their versions now (this connection sees the
    change already) and again once it is committed: between the two, another request may reload
    the old committed rows and cache them under the first new version, and the second orphans
    them. Outside a transaction, once."""
    ids = [user_id for user_id in user_ids if user_id is not None]
    if not ids:
        return
    _bump(ids)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump(ids))


def clear_process_cache() -> None:
    """Forget every entry of this process (tests)."""
    _entries.clear()
