"""The Origin check of every websocket handshake (`/ws/...`), in front of the session and router.

Browsers always send `Origin` on a websocket handshake, and a page of another site could
otherwise open a socket carrying the admin's session cookie (cross-site websocket hijacking).
So an `Origin` that is present must name an allowed host (settings.ALLOWED_HOSTS, as Channels'
AllowedHostsOriginValidator reads them). Server clients (Python `websockets`, curl, the mobile
apps) send none: they authenticate with a ticket, which no other site can hold, so a handshake
without `Origin` goes on to the consumer, which admits or refuses it by its ticket or session.

A refused origin is accepted and then closed with 4403 and the reason `origin_not_allowed: ...`:
a handshake denied before accept reaches browsers as a bare 1006 and other clients as a bare
HTTP 403, and neither says why.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult, urlparse

from channels.security.websocket import OriginValidator
from django.conf import settings

from apps.core.logging import get_logger
from apps.realtime.protocol import ORIGIN_NOT_ALLOWED, Refusal

log = get_logger(__name__)

Scope = dict[str, Any]


def _origins(scope: Scope) -> list[bytes]:
    return [value for name, value in scope.get("headers", []) if name == b"origin"]


def _parsed(origin: bytes) -> ParseResult | None:
    try:
        return urlparse(origin.decode("latin-1"))
    except ValueError:
        return None


async def refuse_handshake(receive: Any, send: Any, refusal: Refusal) -> None:
    """Answer a handshake with accept, then close with the refusal's code and reason (raw ASGI:
    no consumer runs, nothing else is sent)."""
    message = await receive()
    if message["type"] != "websocket.connect":  # the client went away first
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": int(refusal.code), "reason": refusal.reason})


class OriginCheck(OriginValidator):
    """Channels' OriginValidator with two changes: no `Origin` header passes (server clients),
    and a refusal says why (4403 origin_not_allowed) instead of a bare 403."""

    def __init__(self, application: Any, allowed_hosts: list[str] | None = None) -> None:
        if allowed_hosts is None:
            allowed_hosts = list(settings.ALLOWED_HOSTS)
            if settings.DEBUG and not allowed_hosts:
                allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
        super().__init__(application, allowed_hosts)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            raise ValueError("OriginCheck guards websocket connections only")
        origins = _origins(scope)
        if not origins:
            return await self.application(scope, receive, send)
        # Two Origin headers are not something a browser sends: refused, whichever would pass.
        parsed = _parsed(origins[0]) if len(origins) == 1 else None
        if parsed is not None and self.valid_origin(parsed):
            return await self.application(scope, receive, send)
        log.info("realtime.origin_refused", path=scope.get("path"))
        await refuse_handshake(receive, send, ORIGIN_NOT_ALLOWED)
        return None
