"""The handshake of server clients (no Origin header, a ticket) and refusals that say why.

The first tests drive the ASGI application in process; the last ones run it under a real
uvicorn and connect with the `websockets` client exactly as the README does (no Origin header),
so what a client library reads of a refusal (close code and reason) is what is asserted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio
import websockets
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect as ws_connect

from apps.accounts.tests.factories import UserFactory
from apps.organizations.services.organizations import organization_update
from apps.realtime.services.tickets import ticket_issue
from apps.realtime.tests.helpers import STREAM, WebsocketCommunicator, close_frame
from cotton_erp.testing import serve_asgi

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

NO_ORIGIN = [(b"host", b"localhost")]


async def issue(user) -> str:
    return (await sync_to_async(ticket_issue)(user_id=user.pk)).ticket


Handshake = Callable[[str, list[tuple[bytes, bytes]]], Awaitable[WebsocketCommunicator]]


@pytest_asyncio.fixture
async def handshake() -> AsyncIterator[Handshake]:
    """`await handshake(path, headers)` -> a connected communicator with exactly these headers
    (the shared `connect` fixture always sends an allowed Origin); each is disconnected at
    teardown, or its consumer's pending channel-layer read outlives the test's event loop."""
    from cotton_erp.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def _handshake(path: str, headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
        communicator = WebsocketCommunicator(application, path, headers=headers)
        opened.append(communicator)
        connected, _ = await communicator.connect(timeout=3)
        assert connected, "refusals accept, then close with a reason"
        return communicator

    yield _handshake
    await asyncio.gather(*(communicator.disconnect(timeout=0.5) for communicator in opened))


async def test_a_ticket_without_an_origin_header_opens_the_stream_and_receives_events(handshake, relay):
    user = await sync_to_async(UserFactory)()
    communicator = await handshake(f"{STREAM}?ticket={await issue(user)}", NO_ORIGIN)
    ready = await communicator.receive_json_from(timeout=3)
    assert ready["type"] == "ready"
    assert ready["groups"] == [f"user.{user.pk}", f"org.{user.organization_id}"]

    await sync_to_async(organization_update)(organization_id=user.organization_id, name="Renamed Mills")
    await relay()

    frame = await communicator.receive_json_from(timeout=3)
    assert frame["type"] == "event"
    assert frame["event"]["type"] == "organizations.organization.updated"
    assert frame["event"]["payload"]["name"] == "Renamed Mills"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "ticket_required: connect with ?ticket= from POST /api/v1/realtime/tickets/"),
        ("?ticket=not-a-ticket", "ticket_invalid: the ticket is unknown, used or expired"),
    ],
)
async def test_without_a_usable_ticket_the_close_says_why(handshake, query, reason):
    communicator = await handshake(f"{STREAM}{query}", NO_ORIGIN)

    assert await close_frame(communicator) == (4401, reason)


@pytest.mark.parametrize(
    "origin",
    [b"https://evil.example", b"http://localhost.evil.example", b"null", b"http://127.0.0.2"],
)
async def test_a_foreign_origin_is_refused_with_4403_even_with_a_valid_ticket(handshake, origin):
    user = await sync_to_async(UserFactory)()
    ticket = await issue(user)
    communicator = await handshake(f"{STREAM}?ticket={ticket}", [*NO_ORIGIN, (b"origin", origin)])

    code, reason = await close_frame(communicator)

    assert (code, reason) == (4403, "origin_not_allowed: the Origin header names a host not allowed")
    # The refusal ran before the consumer: the ticket was not spent.
    again = await handshake(f"{STREAM}?ticket={ticket}", NO_ORIGIN)
    assert (await again.receive_json_from(timeout=3))["type"] == "ready"


async def test_two_origin_headers_are_refused(handshake):
    communicator = await handshake(
        STREAM, [*NO_ORIGIN, (b"origin", b"http://localhost"), (b"origin", b"https://evil.example")]
    )

    assert (await close_frame(communicator))[0] == 4403


async def test_an_allowed_origin_still_reaches_the_consumer(handshake):
    communicator = await handshake("/ws/v1/ping/", [*NO_ORIGIN, (b"origin", b"http://127.0.0.1:8000")])
    await communicator.send_json_to({"echo": "hi"})

    assert await communicator.receive_json_from(timeout=3) == {"type": "pong", "echo": "hi"}


# --- a real server and a real client --------------------------------------------------------------


@pytest.fixture
def live_server_url() -> Iterator[str]:
    """uvicorn serving the ASGI application on a free port, in a thread of this process (so it
    sees the test database)."""
    with serve_asgi(ws="websockets") as port:
        yield f"ws://127.0.0.1:{port}"


async def test_the_readme_client_connects_without_origin_and_a_refusal_reads_as_code_and_reason(live_server_url):
    user = await sync_to_async(UserFactory)()
    ticket = await issue(user)

    # As in the README: websockets sends no Origin header unless told to.
    async with ws_connect(f"{live_server_url}{STREAM}?ticket={ticket}") as ws:
        assert '"type":"ready"' in str(await asyncio.wait_for(ws.recv(), 3)).replace(" ", "")

    async with ws_connect(f"{live_server_url}{STREAM}?ticket={ticket}") as ws:  # spent
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            await asyncio.wait_for(ws.recv(), 3)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        4401,
        "ticket_invalid: the ticket is unknown, used or expired",
    )

    async with ws_connect(f"{live_server_url}{STREAM}", origin="https://evil.example") as ws:  # type: ignore[arg-type]
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            await asyncio.wait_for(ws.recv(), 3)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        4403,
        "origin_not_allowed: the Origin header names a host not allowed",
    )
