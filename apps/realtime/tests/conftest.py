"""Websocket fixtures: the real ASGI stack (origin check, sessions, router) over the real Redis
channel layer. Tests using them need `@pytest.mark.django_db(transaction=True)`: the consumer
reads the database from another thread, so the rows must be committed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections

from apps.realtime.services.tickets import ticket_issue
from apps.realtime.tests.helpers import HEADERS, STREAM, WebsocketCommunicator

Connect = Callable[..., Awaitable[WebsocketCommunicator]]


@pytest_asyncio.fixture
async def connect() -> AsyncIterator[Connect]:
    """`await connect(path, headers=[...])` -> a connected communicator (asserts the accept).
    Every communicator is disconnected at teardown."""
    from cotton_erp.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def _connect(path: str = STREAM, *, headers: list[tuple[bytes, bytes]] | None = None) -> Any:
        communicator = WebsocketCommunicator(application, path, headers=HEADERS + (headers or []))
        opened.append(communicator)
        connected, _ = await communicator.connect(timeout=3)
        assert connected, "the stream accepts every handshake (refusals close after accepting)"
        return communicator

    yield _connect
    # Bounded: a consumer that disconnects right after connecting often lingers until the
    # channel layer's pending BZPOPMIN returns (channels_redis' brpop_timeout, 5 s; the first
    # cancellation is lost in redis-py's asyncio.wait_for on Python 3.11). The communicator
    # cancels it again after the timeout, which ends it at once.
    await asyncio.gather(*(communicator.disconnect(timeout=0.5) for communicator in opened))


@pytest_asyncio.fixture
async def open_stream(connect: Connect) -> Callable[..., Awaitable[Any]]:
    """`await open_stream(user)` -> a communicator whose socket has joined its groups (the
    `ready` frame is consumed and stored on the communicator as `.ready`)."""

    async def _open(user: Any, **ticket_kwargs: Any) -> Any:
        issued = await sync_to_async(ticket_issue)(user_id=user.pk, **ticket_kwargs)
        communicator = await connect(f"{STREAM}?ticket={issued.ticket}")
        communicator.ready = await communicator.receive_json_from(timeout=3)
        assert communicator.ready["type"] == "ready"
        return communicator

    return _open


@pytest.fixture
def relay() -> Callable[[], Awaitable[Any]]:
    """Run one relay batch in a worker thread, as the Celery task would (the sink is sync)."""
    from apps.events.relay import relay_batch

    def _relay_batch() -> Any:
        try:
            return relay_batch()
        finally:
            connections.close_all()

    return sync_to_async(_relay_batch, thread_sensitive=False)


@pytest_asyncio.fixture(autouse=True)
async def _close_consumer_connections() -> AsyncIterator[None]:
    """The consumer reads the database in asgiref's sync thread; close that thread's connection
    after each test, or dropping the test database at the end finds it still in use."""
    yield
    await database_sync_to_async(connections.close_all)()
