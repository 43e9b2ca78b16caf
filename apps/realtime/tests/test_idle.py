"""An idle socket stays open (issue 14, item 1).

redis-py 8 gives every connection a 5 s socket timeout, the same as channels_redis' blocking
BZPOPMIN wait: the read timed out first and the consumer crashed at 5, 10, 15 s of silence. This
test leaves a real socket (the real ASGI stack over the real Redis channel layer) idle for a
minute, then sends it an event. It is the suite's one long test; under xdist it runs alongside
the others. An hour-long soak against a running server is scripts/ws_soak.py."""

import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from apps.accounts.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.slow]

IDLE_SECONDS = 60


async def test_a_socket_idle_for_a_minute_still_receives_the_next_event(open_stream, settings):
    settings.REALTIME_HEARTBEAT_SECONDS = 25.0  # the production beat: two pings in the minute
    user = await sync_to_async(UserFactory)()
    communicator = await open_stream(user)

    frames = []
    deadline = time.monotonic() + IDLE_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        # receive_nothing re-raises a crash of the consumer; receive_output on a timeout would
        # cancel the application instead, so it only reads a frame that is already there.
        if not await communicator.receive_nothing(timeout=min(1.0, left), interval=0.1):
            frames.append(await communicator.receive_output(timeout=1))
    assert [frame["type"] for frame in frames] == ["websocket.send", "websocket.send"], frames
    assert all(frame["text"] == '{"type": "ping"}' for frame in frames), frames

    await get_channel_layer().group_send(f"org.{user.organization_id}", {"type": "event", "event": {"id": "e-idle"}})

    assert await communicator.receive_json_from(timeout=3) == {"type": "event", "event": {"id": "e-idle"}}
