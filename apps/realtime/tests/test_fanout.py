"""Committed events reach the sockets of their audiences, once, with their id (ARCHITECTURE 8, 10)."""

import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from apps.accounts.tests.factories import ExternalUserFactory, UserFactory
from apps.accounts.users import user_deactivate
from apps.events.emit import emit
from apps.events.models import OutboxEvent
from apps.organizations.services.organizations import organization_update
from apps.realtime import audience
from apps.realtime.tests.helpers import close_code

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

PARTNER_ID = "7d3c2f4e-1b2a-4c5d-8e9f-000000000042"


class Boom(Exception):
    pass


async def test_a_group_send_to_the_organization_reaches_its_staff_socket(open_stream):
    user = await sync_to_async(UserFactory)()
    communicator = await open_stream(user)

    await get_channel_layer().group_send(f"org.{user.organization_id}", {"type": "event", "event": {"id": "e-1"}})

    assert await communicator.receive_json_from() == {"type": "event", "event": {"id": "e-1"}}


async def test_a_committed_event_arrives_with_its_id_and_position_and_only_for_its_organization(open_stream, relay):
    user = await sync_to_async(UserFactory)()
    stranger = await sync_to_async(UserFactory)()  # staff of another organization
    ours, theirs = await open_stream(user), await open_stream(stranger)

    await sync_to_async(organization_update)(organization_id=user.organization_id, name="Renamed Mills")
    await relay()

    frame = await ours.receive_json_from()
    event = await sync_to_async(OutboxEvent.objects.get)(type="organizations.organization.updated")
    assert frame == {
        "type": "event",
        "event": {
            "id": str(event.id),
            "position": event.position,
            "type": "organizations.organization.updated",
            "occurred_at": event.occurred_at.isoformat(),
            "aggregate_type": "organizations.organization",
            "aggregate_id": str(user.organization_id),
            "payload": event.payload,
        },
    }
    assert frame["event"]["payload"]["name"] == "Renamed Mills"
    assert await theirs.receive_nothing(timeout=0.3)
    assert await ours.receive_nothing(timeout=0.1)


async def test_a_rolled_back_event_never_reaches_a_socket(open_stream, relay):
    user = await sync_to_async(UserFactory)()
    communicator = await open_stream(user)

    def change_then_fail():
        with transaction.atomic():
            organization_update(organization_id=user.organization_id, name="Never Happened")
            raise Boom

    with pytest.raises(Boom):
        await sync_to_async(change_then_fail)()
    await relay()

    assert await communicator.receive_nothing(timeout=0.5)


async def test_a_partner_event_reaches_the_partner_socket_and_the_organization_staff(open_stream, relay, monkeypatch):
    monkeypatch.setattr(audience, "_partner_resolver", lambda user: PARTNER_ID)
    partner_user = await sync_to_async(ExternalUserFactory)()
    staff = await sync_to_async(UserFactory)(organization=partner_user.organization)
    partner_socket, staff_socket = await open_stream(partner_user), await open_stream(staff)

    await sync_to_async(emit_committed)(
        "partners.partner.updated", organization_id=partner_user.organization_id, partner_id=PARTNER_ID
    )
    await relay()

    assert (await partner_socket.receive_json_from())["event"]["type"] == "partners.partner.updated"
    assert (await staff_socket.receive_json_from())["event"]["type"] == "partners.partner.updated"


async def test_an_audience_filter_shapes_what_a_partner_sees(open_stream, relay, monkeypatch):
    monkeypatch.setattr(audience, "_partner_resolver", lambda user: PARTNER_ID)
    monkeypatch.setattr(audience, "_filters", {})
    audience.register_audience_filter(
        "partners.*",
        lambda envelope, to: envelope.payload if to.kind == "org" else {"status": envelope.payload["status"]},
    )
    partner_user = await sync_to_async(ExternalUserFactory)()
    staff = await sync_to_async(UserFactory)(organization=partner_user.organization)
    partner_socket, staff_socket = await open_stream(partner_user), await open_stream(staff)

    await sync_to_async(emit_committed)(
        "partners.partner.updated",
        organization_id=partner_user.organization_id,
        partner_id=PARTNER_ID,
        payload={"status": "ACTIVE", "credit_note": "internal only"},
    )
    await relay()

    assert (await partner_socket.receive_json_from())["event"]["payload"] == {"status": "ACTIVE"}
    assert (await staff_socket.receive_json_from())["event"]["payload"] == {
        "status": "ACTIVE",
        "credit_note": "internal only",
    }


async def test_deactivating_a_user_closes_every_socket_of_that_user_with_4403(open_stream, relay):
    user = await sync_to_async(UserFactory)()
    colleague = await sync_to_async(UserFactory)(organization=user.organization)
    laptop, phone, colleague_socket = await open_stream(user), await open_stream(user), await open_stream(colleague)

    await sync_to_async(user_deactivate)(user_id=user.pk, reason="left the company")
    await relay()

    for socket in (laptop, phone):
        # The event reaches the socket through its org and its user group, but arrives once.
        frame = await socket.receive_json_from()
        assert (frame["event"]["type"], frame["event"]["aggregate_id"]) == ("accounts.user.deactivated", str(user.pk))
        assert await close_code(socket) == 4403
    assert (await colleague_socket.receive_json_from())["event"]["type"] == "accounts.user.deactivated"
    assert await colleague_socket.receive_nothing(timeout=0.3)


def emit_committed(event_type, *, organization_id, partner_id, payload=None):
    with transaction.atomic():
        emit(
            event_type,
            aggregate_type="partners.partner",
            aggregate_id=uuid.UUID(partner_id),
            organization_id=organization_id,
            partner_id=partner_id,
            payload=payload or {"status": "ACTIVE"},
        )
