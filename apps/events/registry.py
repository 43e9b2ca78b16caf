"""Who reacts to which events. Apps register in their `AppConfig.ready()`.

Handlers run in the relay's handler transaction, each in its own savepoint together with its
processed marker, so they must only touch the database (no network I/O): they are where a
lower app reacts to a higher one. Sinks run after that transaction commits, for side effects
outside the database (websocket fan-out); they must tolerate seeing an event twice.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass

from apps.events.envelope import EventEnvelope

Handler = Callable[[EventEnvelope], None]
Sink = Callable[[list[EventEnvelope]], None]


@dataclass(frozen=True)
class RegisteredHandler:
    name: str
    pattern: str
    fn: Handler
    # Handlers with the same key run in one relay worker at a time (see relay._run_handlers).
    serial: str | None = None

    def matches(self, event_type: str) -> bool:
        return event_type_matches(self.pattern, event_type)


_handlers: dict[str, RegisteredHandler] = {}
_sinks: dict[str, Sink] = {}


def event_type_matches(pattern: str, event_type: str) -> bool:
    """`*` matches everything; `tradedesk.*` every event of the trade desk; else exact."""
    return pattern == "*" or pattern == event_type or fnmatch.fnmatchcase(event_type, pattern)


def register_handler(
    pattern: str, fn: Handler, *, name: str | None = None, serial: str | None = None
) -> RegisteredHandler:
    """Register `fn` for events whose type matches `pattern`. The name is the idempotency key
    of its processed markers: keep it stable across releases.

    `serial`: handlers that lock rows of many aggregates (matching re-scores a whole side of the
    market) deadlock when two relay workers run them at once, because a batch is one transaction
    and keeps each handler's locks until it commits. Handlers sharing a serial key run in one
    worker at a time: the relay takes the key's lock (`events.locks.lock_serial`) before the
    batch's first handler, so a worker waiting for it holds nothing. Code that does the same work
    outside the relay takes the same lock first."""
    handler_name = name or f"{fn.__module__}.{fn.__qualname__}"
    registered = RegisteredHandler(name=handler_name, pattern=pattern, fn=fn, serial=serial)
    _handlers[handler_name] = registered
    return registered


def unregister_handler(name: str) -> None:
    _handlers.pop(name, None)


def handlers_for(event_type: str) -> list[RegisteredHandler]:
    return [h for h in _handlers.values() if h.matches(event_type)]


def register_sink(name: str, fn: Sink) -> None:
    _sinks[name] = fn


def unregister_sink(name: str) -> None:
    _sinks.pop(name, None)


def sinks() -> list[tuple[str, Sink]]:
    return list(_sinks.items())
