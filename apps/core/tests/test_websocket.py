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
async def test_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(
        application, PING, headers=[(b"origin", b"http://evil.example"), (b"host", b"localhost")]
    )

    connected, _ = await communicator.connect()

    assert connected is False
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_connection_without_an_origin_is_refused():
    communicator = WebsocketCommunicator(application, PING, headers=[(b"host", b"localhost")])

    connected, _ = await communicator.connect()

    assert connected is False
    await communicator.disconnect()
