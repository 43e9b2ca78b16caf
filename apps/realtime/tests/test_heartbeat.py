import pytest
from asgiref.sync import sync_to_async

from apps.accounts.tests.factories import UserFactory
from apps.realtime.tests.helpers import close_code

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _fast_heartbeat(settings):
    settings.REALTIME_HEARTBEAT_SECONDS = 0.2


async def test_a_socket_that_misses_two_pongs_is_closed_with_4408(open_stream):
    user = await sync_to_async(UserFactory)()
    communicator = await open_stream(user)

    assert await communicator.receive_json_from() == {"type": "ping"}
    assert await communicator.receive_json_from() == {"type": "ping"}
    assert await close_code(communicator) == 4408


async def test_a_socket_that_answers_its_pings_stays_open(open_stream):
    user = await sync_to_async(UserFactory)()
    communicator = await open_stream(user)

    for _ in range(5):  # a full second: well past the 0.6 s an idle socket lives
        assert await communicator.receive_json_from() == {"type": "ping"}
        await communicator.send_json_to({"action": "pong"})

    await communicator.send_json_to({"action": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
