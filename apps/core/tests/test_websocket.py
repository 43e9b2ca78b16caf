"""The ASGI application serves websockets through Channels, and only to pages of our own hosts."""

from __future__ import annotations

import pytest
from channels.routing import get_default_application
from channels.testing import WebsocketCommunicator

# settings.ASGI_APPLICATION (cotton_erp.asgi.application), loaded by name: apps never import the
# project package (import-linter).
application = get_default_application()

PING = "/ws/v1/ping/"
OUR_ORIGIN = [(b"origin", b"http://localhost"), (b"host", b"localhost")]


@pytest.mark.asyncio
async def test_ping_socket_answers_pong_echoing_the_message():
    communicator = WebsocketCommunicator(application, PING, headers=OUR_ORIGIN)
    connected, _ = await communicator.connect()
    try:
        assert connected is True

        await communicator.send_json_to({"echo": "hi"})

        assert await communicator.receive_json_from(timeout=2) == {"type": "pong", "echo": "hi"}
    finally:
        await communicator.disconnect()


@pytest.mark.asyncio
async def test_ping_socket_answers_each_message_in_turn():
    communicator = WebsocketCommunicator(application, PING, headers=OUR_ORIGIN)
    connected, _ = await communicator.connect()
    try:
        assert connected is True

        await communicator.send_json_to({"echo": "first"})
        await communicator.send_json_to(["not", "an", "object"])

        assert await communicator.receive_json_from(timeout=2) == {"type": "pong", "echo": "first"}
        assert await communicator.receive_json_from(timeout=2) == {"type": "pong", "echo": None}
        assert await communicator.receive_nothing(timeout=0.1) is True
    finally:
        await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_foreign_origin_is_refused_with_a_readable_close():
    """Origin is checked when it is sent (issue 17): a foreign one is accepted, then closed with
    4403 and a reason a client can read (apps.realtime.handshake)."""
    communicator = WebsocketCommunicator(
        application, PING, headers=[(b"origin", b"http://evil.example"), (b"host", b"localhost")]
    )

    await communicator.connect()
    closing = await communicator.receive_output(timeout=3)

    assert (closing["type"], closing["code"]) == ("websocket.close", 4403)
    assert closing["reason"].startswith("origin_not_allowed")
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_server_client_without_an_origin_reaches_the_consumer():
    """A server-side client (Python websockets, no Origin header) is not a browser: there is no
    cross-site page to guard against, so the handshake goes on to the consumer."""
    communicator = WebsocketCommunicator(application, PING, headers=[(b"host", b"localhost")])

    connected, _ = await communicator.connect()
    await communicator.send_json_to({"echo": "server"})

    assert connected is True
    assert await communicator.receive_json_from(timeout=3) == {"type": "pong", "echo": "server"}
    await communicator.disconnect()
