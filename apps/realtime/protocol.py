"""The wire protocol of `/ws/v1/stream/`: close codes and the frames the server sends.

Server -> client frames (JSON text):

    {"type": "ready", "groups": [...], "heartbeat_seconds": 25.0}   once, after the socket joined its groups
    {"type": "event", "event": {"id", "position", "type", "occurred_at",
                                "aggregate_type", "aggregate_id", "payload"}}
    {"type": "ping"}                                                  heartbeat; answer {"action": "pong"}
    {"type": "pong"}                                                  answer to {"action": "ping"}
    {"type": "subscribed" | "unsubscribed", "topic": "..."}
    {"type": "error", "code": "...", "detail": "...", ...}

Client -> server: `{"action": "ping" | "pong" | "subscribe" | "unsubscribe", "topic": ...}`.
Every event frame carries the event's id (dedupe on it) and position (after a reconnect, catch
up with `GET /api/v1/events/?after=<position>`).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from apps.events.envelope import EventEnvelope


class CloseCode(IntEnum):
    # 4000-4999 are the application's; the hundreds echo the HTTP status they resemble.
    UNAUTHORIZED = 4401  # no, used or expired ticket; or the access token behind it expired
    FORBIDDEN = 4403  # the user is disabled
    HEARTBEAT_TIMEOUT = 4408  # two pings went unanswered


# Channel-layer message types (the consumer's handler is the type with `.` -> `_`).
EVENT_MESSAGE = "event"
FORCE_CLOSE_MESSAGE = "force.close"


def event_frame(envelope: EventEnvelope, payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message for one event and audience; also the frame the client gets."""
    return {
        "type": EVENT_MESSAGE,
        "event": {
            "id": envelope.id,
            "position": envelope.position,
            "type": envelope.type,
            "occurred_at": envelope.occurred_at.isoformat(),
            "aggregate_type": envelope.aggregate_type,
            "aggregate_id": envelope.aggregate_id,
            "payload": payload,
        },
    }


def force_close_message(code: int = CloseCode.FORBIDDEN) -> dict[str, Any]:
    return {"type": FORCE_CLOSE_MESSAGE, "code": int(code)}
