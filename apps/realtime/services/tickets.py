"""Websocket tickets: short-lived, single-use proofs that an authenticated user asked to connect.

A browser cannot put a bearer token on a websocket handshake, and a JWT in the URL would end up
in access logs for its whole lifetime. So the client trades its token for a ticket (30 s, one
use) and connects with `?ticket=`. Tickets live in Redis under a hash of their value (the key
space never shows a usable ticket) and are consumed with GETDEL, so two connects racing with
one ticket cannot both win.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.core.redis import get_redis

_KEY_PREFIX = "cotton:realtime:ticket:"


@dataclass(frozen=True)
class IssuedTicket:
    ticket: str
    expires_in: int


@dataclass(frozen=True)
class RedeemedTicket:
    user_id: str
    issued_at: float
    # When the access token the ticket was bought with expires (POSIX time); the socket closes then.
    access_expires_at: float | None


def _key(ticket: str) -> str:
    return _KEY_PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


def ticket_issue(*, user_id: Any, access_expires_at: float | None = None) -> IssuedTicket:
    """Store a new ticket for `user_id`, valid for REALTIME_TICKET_TTL_SECONDS."""
    ttl = float(settings.REALTIME_TICKET_TTL_SECONDS)
    ticket = secrets.token_urlsafe(32)
    value = {"user_id": str(user_id), "issued_at": time.time(), "access_expires_at": access_expires_at}
    get_redis().set(_key(ticket), json.dumps(value), px=max(1, int(ttl * 1000)))
    return IssuedTicket(ticket=ticket, expires_in=math.ceil(ttl))


def ticket_redeem(*, ticket: str) -> RedeemedTicket | None:
    """Consume a ticket atomically. None when it never existed, was used, or expired."""
    if not ticket or len(ticket) > 128:
        return None
    raw = get_redis().getdel(_key(ticket))
    if raw is None:
        return None
    value = json.loads(str(raw))
    return RedeemedTicket(
        user_id=value["user_id"],
        issued_at=float(value["issued_at"]),
        access_expires_at=value.get("access_expires_at"),
    )
