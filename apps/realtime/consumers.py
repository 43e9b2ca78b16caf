"""`/ws/v1/stream/`: one socket per client, fed by the events sink (fanout.py).

Admission: `?ticket=` (services.ticket_redeem), or else the admin's session when
`scope["user"]` is an authenticated staff user. A refused socket is accepted and then closed,
so the client sees why: a close code (protocol.CloseCode: 4401 no/used/expired ticket, 4403
disabled user) and a reason naming the refusal (protocol.Refusal, e.g. `ticket_invalid: ...`).
The Origin header is checked before (handshake.OriginCheck), only when the client sends one.

The groups are joined before the socket is accepted, and the user is read again after joining:
a deactivation committed before that read is seen by it, and one committed after reaches the
already-joined `user.<id>` group as a force-close. Either way the socket does not outlive it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.core.logging import get_logger
from apps.core.parsers import loads_bounded
from apps.realtime.audience import groups_for_user
from apps.realtime.protocol import (
    HEARTBEAT_MISSED,
    REASON_OF_CODE,
    TICKET_INVALID,
    TICKET_REQUIRED,
    TICKET_REVOKED,
    TOKEN_EXPIRED,
    USER_DISABLED,
    CloseCode,
    Refusal,
)
from apps.realtime.services.tickets import ticket_redeem
from apps.realtime.topics import topic_permitted

log = get_logger(__name__)

# Pings a client may leave unanswered; at the next beat the socket closes (4408).
MAX_UNANSWERED_PINGS = 2
# How many recent event ids a socket remembers to drop duplicates (an event reaches a socket
# once per group it shares with it, e.g. org and user groups for an event about a staff user).
RECENT_EVENT_IDS = 512


class Admission(NamedTuple):
    user: Any
    access_expires_at: float | None
    refusal: Refusal | None


def admit_ticket(ticket: str) -> Admission:
    """Consume the ticket and load its user (sync: Redis and the database)."""
    redeemed = ticket_redeem(ticket=ticket)
    if redeemed is None:
        return Admission(None, None, TICKET_INVALID)
    user = get_user_model().objects.filter(pk=redeemed.user_id).first()
    if user is None:
        return Admission(None, None, TICKET_INVALID)
    if not user.is_active:
        return Admission(None, None, USER_DISABLED)
    # "Log out everywhere" after the ticket was issued revokes it too (duck-typed: accounts field).
    valid_after = getattr(user, "tokens_valid_after", None)
    if valid_after is not None and redeemed.issued_at < valid_after.timestamp():
        return Admission(None, None, TICKET_REVOKED)
    return Admission(user, redeemed.access_expires_at, None)


def user_is_active(user_id: Any) -> bool:
    return get_user_model().objects.filter(pk=user_id, is_active=True).exists()


class StreamConsumer(AsyncJsonWebsocketConsumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user: Any = None
        self.closed = False
        self.base_groups: frozenset[str] = frozenset()
        self.topics: set[str] = set()
        self.unanswered_pings = 0
        self.recent_event_ids: deque[str] = deque(maxlen=RECENT_EVENT_IDS)
        self.background: list[asyncio.Task[None]] = []

    # --- Lifecycle ------------------------------------------------------------------------

    async def connect(self) -> None:
        admission = await self.admit()
        if admission.refusal is not None:
            await self.refuse(admission.refusal)
            return
        self.user = admission.user
        groups = await database_sync_to_async(groups_for_user)(self.user)
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups.append(group)
        if not await database_sync_to_async(user_is_active)(self.user.pk):
            await self.refuse(USER_DISABLED)
            return
        self.base_groups = frozenset(groups)
        await self.accept()
        heartbeat_seconds = float(settings.REALTIME_HEARTBEAT_SECONDS)
        await self.send_json({"type": "ready", "groups": groups, "heartbeat_seconds": heartbeat_seconds})
        self.background.append(asyncio.create_task(self.heartbeat(heartbeat_seconds)))
        if admission.access_expires_at is not None:
            self.background.append(asyncio.create_task(self.close_at(admission.access_expires_at)))

    async def admit(self) -> Admission:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        if "ticket" in query:
            return await database_sync_to_async(admit_ticket)(query["ticket"][0])
        session_user = self.scope.get("user")
        if (
            getattr(session_user, "is_authenticated", False)
            and getattr(session_user, "is_staff", False)
            and getattr(session_user, "is_active", False)
        ):
            return Admission(session_user, None, None)
        return Admission(None, None, TICKET_REQUIRED)

    async def refuse(self, refusal: Refusal) -> None:
        """Accept, then close with the refusal's code and reason: a handshake refused before
        accept reaches browsers as a bare 1006 and other clients as a bare HTTP 403."""
        await self.accept()
        await self.close_with(refusal)

    async def close_with(self, refusal: Refusal) -> None:
        if self.closed:
            return
        self.closed = True
        log.info(
            "realtime.socket_closed",
            code=int(refusal.code),
            reason=refusal.reason.split(":", 1)[0],
            user_id=str(getattr(self.user, "pk", "")) or None,
        )
        await self.close(code=int(refusal.code), reason=refusal.reason)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        for task in self.background:
            task.cancel()

    async def heartbeat(self, interval: float) -> None:
        while not self.closed:
            await asyncio.sleep(interval)
            if self.unanswered_pings >= MAX_UNANSWERED_PINGS:
                await self.close_with(HEARTBEAT_MISSED)
                return
            self.unanswered_pings += 1
            await self.send_json({"type": "ping"})

    async def close_at(self, deadline: float) -> None:
        """The access token the ticket was bought with expires: the client must re-authenticate."""
        await asyncio.sleep(max(0.0, deadline - time.time()))
        await self.close_with(TOKEN_EXPIRED)

    # --- From the client ------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if self.closed:
            return
        if text_data is None:
            await self.send_error("bad_frame", "Send JSON text frames.")
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_error("bad_frame", "The frame is not JSON.")
            return
        await self.receive_json(content)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # Bounded nesting: the json module's RecursionError on a deep frame crashed the consumer.
        return loads_bounded(text_data)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        self.unanswered_pings = 0  # any frame shows the client is alive
        action = content.get("action") if isinstance(content, dict) else None
        if action == "pong":
            return
        if action == "ping":
            await self.send_json({"type": "pong"})
        elif action == "subscribe":
            await self.subscribe(content.get("topic"))
        elif action == "unsubscribe":
            await self.unsubscribe(content.get("topic"))
        else:
            await self.send_error(
                "unknown_action", "Expected an object with action ping, pong, subscribe or unsubscribe."
            )

    async def subscribe(self, topic: Any) -> None:
        if not isinstance(topic, str):
            await self.send_error("topic_not_permitted", "Expected a topic name.", topic=topic)
            return
        if topic not in self.topics:
            if len(self.topics) >= settings.REALTIME_MAX_TOPICS:
                await self.send_error(
                    "too_many_topics", f"At most {settings.REALTIME_MAX_TOPICS} topics per socket.", topic=topic
                )
                return
            if not await database_sync_to_async(topic_permitted)(self.user, topic):
                await self.send_error("topic_not_permitted", "You may not follow this topic.", topic=topic)
                return
            if topic not in self.groups:
                await self.channel_layer.group_add(topic, self.channel_name)
                self.groups.append(topic)
            self.topics.add(topic)
        await self.send_json({"type": "subscribed", "topic": topic})

    async def unsubscribe(self, topic: Any) -> None:
        if not isinstance(topic, str) or topic not in self.topics:
            await self.send_error("topic_not_subscribed", "This socket did not subscribe to that topic.", topic=topic)
            return
        self.topics.discard(topic)
        if topic not in self.base_groups:  # the socket's own groups stay, whatever the client asks
            await self.channel_layer.group_discard(topic, self.channel_name)
            self.groups.remove(topic)
        await self.send_json({"type": "unsubscribed", "topic": topic})

    async def send_error(self, code: str, detail: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail, **extra})

    # --- From the channel layer (fanout.py) -----------------------------------------------

    async def event(self, message: dict[str, Any]) -> None:
        event_id = message["event"]["id"]
        if self.closed or event_id in self.recent_event_ids:
            return
        self.recent_event_ids.append(event_id)
        await self.send_json({"type": "event", "event": message["event"]})

    async def force_close(self, message: dict[str, Any]) -> None:
        code = CloseCode(int(message.get("code", CloseCode.FORBIDDEN)))
        await self.close_with(Refusal(code, REASON_OF_CODE[code]))
