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
from typing import Any, NamedTuple

from apps.events.envelope import EventEnvelope


class CloseCode(IntEnum):
    # 4000-4999 are the application's; the hundreds echo the HTTP status they resemble.
    UNAUTHORIZED = 4401  # no, used or expired ticket; or the access token behind it expired
    FORBIDDEN = 4403  # the user is disabled, or the Origin header names a foreign site
    HEARTBEAT_TIMEOUT = 4408  # two pings went unanswered


class Refusal(NamedTuple):
    """Why a socket is refused or closed: the close code and its reason, `<stable code>: <sentence>`
    (the part before the colon is for programs; a close reason holds at most 123 bytes)."""

    code: CloseCode
    reason: str


TICKET_REQUIRED = Refusal(
    CloseCode.UNAUTHORIZED, "ticket_required: connect with ?ticket= from POST /api/v1/realtime/tickets/"
)
TICKET_INVALID = Refusal(CloseCode.UNAUTHORIZED, "ticket_invalid: the ticket is unknown, used or expired")
TICKET_REVOKED = Refusal(CloseCode.UNAUTHORIZED, "ticket_revoked: the user signed out everywhere after buying it")
TOKEN_EXPIRED = Refusal(CloseCode.UNAUTHORIZED, "token_expired: the access token behind the ticket expired")
USER_DISABLED = Refusal(CloseCode.FORBIDDEN, "user_disabled: the user is disabled")
ORIGIN_NOT_ALLOWED = Refusal(CloseCode.FORBIDDEN, "origin_not_allowed: the Origin header names a host not allowed")
HEARTBEAT_MISSED = Refusal(CloseCode.HEARTBEAT_TIMEOUT, "heartbeat_missed: two pings went unanswered")

# The reason of a close ordered through the channel layer (force.close carries only the code).
REASON_OF_CODE = {
    CloseCode.UNAUTHORIZED: TICKET_INVALID.reason,
    CloseCode.FORBIDDEN: USER_DISABLED.reason,
    CloseCode.HEARTBEAT_TIMEOUT: HEARTBEAT_MISSED.reason,
}


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
