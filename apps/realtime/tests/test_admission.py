"""Who may open /ws/v1/stream/, and the close codes of those who may not."""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from apps.accounts.tests.factories import ExternalUserFactory, SuperAdminFactory, UserFactory
from apps.accounts.users import user_deactivate
from apps.realtime import audience
from apps.realtime.services.tickets import ticket_issue
from apps.realtime.tests.helpers import STREAM, close_code

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def issue(user, **kwargs):
    return (await sync_to_async(ticket_issue)(user_id=user.pk, **kwargs)).ticket


async def test_a_ticket_from_the_api_opens_the_stream_into_the_staff_groups(authenticate, connect):
    user = await sync_to_async(UserFactory)()
    url = await sync_to_async(lambda: authenticate(user).post("/api/v1/realtime/tickets/").json()["url"])()

    communicator = await connect(url)

    ready = await communicator.receive_json_from()
    assert ready == {
        "type": "ready",
        "groups": [f"user.{user.pk}", f"org.{user.organization_id}"],
        "heartbeat_seconds": 25.0,
    }


async def test_a_ticket_works_once(connect):
    user = await sync_to_async(UserFactory)()
    ticket = await issue(user)
    first = await connect(f"{STREAM}?ticket={ticket}")
    assert (await first.receive_json_from())["type"] == "ready"

    second = await connect(f"{STREAM}?ticket={ticket}")

    assert await close_code(second) == 4401


async def test_an_expired_ticket_is_refused(connect, settings):
    settings.REALTIME_TICKET_TTL_SECONDS = 0.1
    user = await sync_to_async(UserFactory)()
    ticket = await issue(user)
    await asyncio.sleep(0.3)

    communicator = await connect(f"{STREAM}?ticket={ticket}")

    assert await close_code(communicator) == 4401


@pytest.mark.parametrize("path", [STREAM, f"{STREAM}?ticket=", f"{STREAM}?ticket=not-a-ticket"])
async def test_no_ticket_or_an_unknown_one_is_refused(connect, path):
    communicator = await connect(path)

    assert await close_code(communicator) == 4401


async def test_a_disabled_user_is_refused_with_4403(connect):
    user = await sync_to_async(UserFactory)()
    ticket = await issue(user)
    await sync_to_async(user_deactivate)(user_id=user.pk)

    communicator = await connect(f"{STREAM}?ticket={ticket}")

    assert await close_code(communicator) == 4403


async def test_a_ticket_issued_before_log_out_everywhere_is_refused(connect):
    user = await sync_to_async(UserFactory)()
    ticket = await issue(user)
    user.tokens_valid_after = timezone.now()
    await sync_to_async(user.save)(update_fields=["tokens_valid_after"])

    communicator = await connect(f"{STREAM}?ticket={ticket}")

    assert await close_code(communicator) == 4401


async def test_the_socket_closes_when_the_access_token_behind_the_ticket_expires(open_stream):
    user = await sync_to_async(UserFactory)()

    communicator = await open_stream(user, access_expires_at=time.time() + 0.3)

    assert await close_code(communicator, timeout=2) == 4401


async def test_a_staff_session_connects_without_a_ticket(connect):
    user = await sync_to_async(UserFactory)()
    cookie = await sync_to_async(session_cookie)(user)

    communicator = await connect(STREAM, headers=[(b"cookie", cookie)])

    assert (await communicator.receive_json_from())["groups"] == [f"user.{user.pk}", f"org.{user.organization_id}"]


async def test_a_session_of_a_non_staff_user_needs_a_ticket(connect):
    user = await sync_to_async(UserFactory)(is_staff=False)
    cookie = await sync_to_async(session_cookie)(user)

    communicator = await connect(STREAM, headers=[(b"cookie", cookie)])

    assert await close_code(communicator) == 4401


async def test_a_platform_admin_joins_the_platform_group(open_stream):
    admin = await sync_to_async(SuperAdminFactory)()

    communicator = await open_stream(admin)

    assert communicator.ready["groups"] == [f"user.{admin.pk}", "platform"]


async def test_an_external_user_without_a_partner_joins_only_its_user_group(open_stream):
    user = await sync_to_async(ExternalUserFactory)()

    communicator = await open_stream(user)

    assert communicator.ready["groups"] == [f"user.{user.pk}"]


async def test_an_external_user_joins_the_group_of_the_partner_the_resolver_names(open_stream, monkeypatch):
    user = await sync_to_async(ExternalUserFactory)()
    monkeypatch.setattr(audience, "_partner_resolver", lambda u: "5e1f0c1e-0000-4000-8000-000000000001")

    communicator = await open_stream(user)

    assert communicator.ready["groups"] == [f"user.{user.pk}", "partner.5e1f0c1e-0000-4000-8000-000000000001"]


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()
