"""Websocket test helpers. Import `WebsocketCommunicator` from here, not from channels.testing."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator

__all__ = ["HEADERS", "STREAM", "WebsocketCommunicator", "close_code", "close_frame"]

HEADERS = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
STREAM = "/ws/v1/stream/"


async def close_frame(communicator: WebsocketCommunicator, timeout: float = 3) -> tuple[int, str]:
    """The code and reason of the close frame that must come next."""
    message = await communicator.receive_output(timeout=timeout)
    assert message["type"] == "websocket.close", message
    return int(message["code"]), str(message.get("reason", ""))


async def close_code(communicator: WebsocketCommunicator, timeout: float = 3) -> int:
    """The code of the close frame that must come next."""
    return (await close_frame(communicator, timeout))[0]
