"""The events sink: send each dispatched event to the websocket groups it belongs to.

Registered with `apps.events.registry.register_sink` in `RealtimeConfig.ready()`. The relay calls
it after its handler transaction has committed, outside any transaction, in a Celery worker (sync
code): one call sends the whole batch, in position order, so a group sees its events in order. A
failure raises, and the relay retries the batch later: sockets may then see an event twice, which
is why frames carry the event id.

The sends run on one event loop per process, in a thread of its own: the Redis channel layer
keeps its connections per event loop, and `async_to_sync` would make a loop (and so connect to
Redis again) on every batch, a few milliseconds each (bench/latency.py).
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from channels.layers import get_channel_layer
from django.core.exceptions import ImproperlyConfigured

from apps.core.logging import get_logger
from apps.events.envelope import EventEnvelope
from apps.realtime.audience import (
    audiences_for_event,
    payload_for,
    routed_audiences,
    user_aggregate_type,
    user_group,
)
from apps.realtime.protocol import CloseCode, event_frame, force_close_message
from apps.realtime.topics import is_group_name

log = get_logger(__name__)

# accounts.events.USER_DEACTIVATED, spelled out: realtime imports no domain app.
USER_DEACTIVATED = "accounts.user.deactivated"

SINK_NAME = "realtime"


def messages_for(envelope: EventEnvelope) -> list[tuple[str, dict[str, Any]]]:
    """(group, message) pairs for one event: one per audience allowed to see it (its own
    audiences, then those a domain router adds, once per group: the first payload wins), then
    the force-close of a disabled user's sockets."""
    messages = []
    groups: set[str] = set()
    for audience in audiences_for_event(envelope):
        payload = payload_for(envelope, audience)
        groups.add(audience.group)
        if payload is not None:
            messages.append((audience.group, event_frame(envelope, payload)))
    for audience, payload in routed_audiences(envelope):
        group = audience.group
        if group in groups:
            continue
        if not is_group_name(group):
            # The channel layer would refuse it, and the relay would retry the batch forever.
            log.warning("realtime.bad_group", group=group[:120], event_type=envelope.type)
            continue
        groups.add(group)
        messages.append((group, event_frame(envelope, payload)))
    if envelope.type == USER_DEACTIVATED and envelope.aggregate_type == user_aggregate_type():
        messages.append((user_group(envelope.aggregate_id), force_close_message(CloseCode.FORBIDDEN)))
    return messages


def fan_out(envelopes: list[EventEnvelope]) -> None:
    """The sink. Sync; never call it from a running event loop."""
    messages = [message for envelope in envelopes for message in messages_for(envelope)]
    if messages:
        asyncio.run_coroutine_threadsafe(_send_all(messages), _sender_loop()).result()


_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _sender_loop() -> asyncio.AbstractEventLoop:
    """This process's loop for the sends, started on first use (again in a forked child)."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="realtime-fanout", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


async def _send_all(messages: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        raise ImproperlyConfigured("realtime fan-out needs settings.CHANNEL_LAYERS")
    for group, message in messages:
        await layer.group_send(group, message)
