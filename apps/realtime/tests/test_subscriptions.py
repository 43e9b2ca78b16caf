"""What a socket may ask for beyond its own groups."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from apps.accounts.tests.factories import ExternalUserFactory, SuperAdminFactory, UserFactory
from apps.organizations.tests.factories import OrganizationFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def send_event(group, event_id):
    await get_channel_layer().group_send(group, {"type": "event", "event": {"id": event_id}})


async def test_a_platform_admin_may_follow_an_organization(open_stream):
    admin = await sync_to_async(SuperAdminFactory)()
    organization = await sync_to_async(OrganizationFactory)()
    communicator = await open_stream(admin)

    await communicator.send_json_to({"action": "subscribe", "topic": f"org.{organization.pk}"})

    assert await communicator.receive_json_from() == {"type": "subscribed", "topic": f"org.{organization.pk}"}
    await send_event(f"org.{organization.pk}", "e-1")
    assert (await communicator.receive_json_from())["event"]["id"] == "e-1"


@pytest.mark.parametrize(
    "topic",
    ["org.{other}", "org.{own}", "user.{other_user}", "partner.{own}", "nonsense", "org.", "org.{own} ", 42],
)
async def test_a_topic_outside_the_users_permissions_is_refused(open_stream, topic):
    user = await sync_to_async(ExternalUserFactory)()  # a partner user may not follow its organization
    other = await sync_to_async(UserFactory)()
    if isinstance(topic, str):
        topic = topic.format(own=user.organization_id, other=other.organization_id, other_user=other.pk)
    communicator = await open_stream(user)

    await communicator.send_json_to({"action": "subscribe", "topic": topic})

    assert await communicator.receive_json_from() == {
        "type": "error",
        "code": "topic_not_permitted",
        "detail": "You may not follow this topic." if isinstance(topic, str) else "Expected a topic name.",
        "topic": topic,
    }


async def test_staff_may_follow_their_own_organization_but_not_another(open_stream):
    user = await sync_to_async(UserFactory)()
    other = await sync_to_async(OrganizationFactory)()
    communicator = await open_stream(user)

    await communicator.send_json_to({"action": "subscribe", "topic": f"org.{other.pk}"})
    await communicator.send_json_to({"action": "subscribe", "topic": f"org.{user.organization_id}"})

    assert (await communicator.receive_json_from())["code"] == "topic_not_permitted"
    assert await communicator.receive_json_from() == {"type": "subscribed", "topic": f"org.{user.organization_id}"}
    await send_event(f"org.{other.pk}", "not-for-you")
    assert await communicator.receive_nothing(timeout=0.3)


async def test_unsubscribing_stops_the_topic_but_never_the_sockets_own_groups(open_stream):
    admin = await sync_to_async(SuperAdminFactory)()
    organization = await sync_to_async(OrganizationFactory)()
    communicator = await open_stream(admin)
    topic = f"org.{organization.pk}"
    await communicator.send_json_to({"action": "subscribe", "topic": topic})
    await communicator.receive_json_from()

    await communicator.send_json_to({"action": "unsubscribe", "topic": topic})
    await communicator.send_json_to({"action": "unsubscribe", "topic": f"user.{admin.pk}"})

    assert await communicator.receive_json_from() == {"type": "unsubscribed", "topic": topic}
    assert (await communicator.receive_json_from())["code"] == "topic_not_subscribed"
    await send_event(topic, "after-unsubscribe")
    await send_event(f"user.{admin.pk}", "still-mine")
    assert (await communicator.receive_json_from())["event"]["id"] == "still-mine"
    assert await communicator.receive_nothing(timeout=0.2)


async def test_a_socket_follows_a_limited_number_of_topics(open_stream, settings):
    settings.REALTIME_MAX_TOPICS = 1
    admin = await sync_to_async(SuperAdminFactory)()
    first, second = await sync_to_async(OrganizationFactory)(), await sync_to_async(OrganizationFactory)()
    communicator = await open_stream(admin)

    await communicator.send_json_to({"action": "subscribe", "topic": f"org.{first.pk}"})
    await communicator.send_json_to({"action": "subscribe", "topic": f"org.{second.pk}"})

    assert (await communicator.receive_json_from())["type"] == "subscribed"
    assert (await communicator.receive_json_from())["code"] == "too_many_topics"


async def test_ping_gets_pong_and_anything_else_an_error(open_stream):
    user = await sync_to_async(UserFactory)()
    communicator = await open_stream(user)

    await communicator.send_json_to({"action": "ping"})
    await communicator.send_json_to({"action": "dance"})
    await communicator.send_json_to(["not", "an", "object"])
    await communicator.send_to(text_data="{not json")
    await communicator.send_to(text_data="[" * 100_000 + "]" * 100_000)  # a RecursionError before issue 14

    assert await communicator.receive_json_from() == {"type": "pong"}
    assert (await communicator.receive_json_from())["code"] == "unknown_action"
    assert (await communicator.receive_json_from())["code"] == "unknown_action"
    assert (await communicator.receive_json_from())["code"] == "bad_frame"
    assert (await communicator.receive_json_from())["code"] == "bad_frame"
    await communicator.send_json_to({"action": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
