"""Live updates of postings (realtime.py): the market topics, who may follow them, which events
reach them and with what; and over real sockets (the ASGI app, the Redis channel layer, the
relay), that another organization hears nothing and the market never hears who posted."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections, transaction

from apps.accounts.tests.factories import ExternalUserFactory, SuperAdminFactory
from apps.events.emit import emit
from apps.events.envelope import EventEnvelope
from apps.events.models import OutboxEvent
from apps.partners.models import BusinessPartner
from apps.partners.tests import factories as partner_factories
from apps.realtime.fanout import messages_for
from apps.realtime.services.tickets import ticket_issue
from apps.realtime.tests.helpers import HEADERS, STREAM, WebsocketCommunicator
from apps.realtime.topics import topic_permitted
from apps.tradedesk import events
from apps.tradedesk.models import Availability, Requirement, Visibility
from apps.tradedesk.realtime import market_topic, route_posting_event
from apps.tradedesk.tests import factories


def availability_payload(availability: Availability, **extra: Any) -> dict[str, Any]:
    """Shaped like the availability services' event payload, identifying fields included (the
    number, the invitees, a free-text reason), so the tests see them stripped."""
    return {
        "availability_id": str(availability.pk),
        "number": availability.number,
        "status": availability.status,
        "commodity_id": str(availability.commodity_id),
        "commodity_code": availability.commodity.code,
        "variety_id": None,
        "variety_code": None,
        "quantity": str(availability.quantity),
        "quantity_unit": "BALE",
        "total_kg": str(availability.total_kg),
        "available_kg": str(availability.available_kg),
        "reserved_kg": str(availability.reserved_kg),
        "sold_kg": str(availability.sold_kg),
        "price": str(availability.price),
        "price_unit": "CANDY",
        "currency": "INR",
        "price_per_kg": str(availability.price_per_kg),
        "quality": availability.quality,
        "state_code": availability.state_code,
        "region": availability.region,
        "visibility": availability.visibility,
        "invited_partner_ids": sorted(str(pk) for pk in availability.invited_partners.values_list("pk", flat=True)),
        "decided_at": None,
        **extra,
    }


def requirement_payload(requirement: Requirement, **extra: Any) -> dict[str, Any]:
    return {
        "requirement_id": str(requirement.pk),
        "number": requirement.number,
        "status": requirement.status,
        "commodity_id": str(requirement.commodity_id),
        "commodity_code": requirement.commodity.code,
        "min_kg": str(requirement.min_kg),
        "max_kg": str(requirement.max_kg),
        "max_price_per_kg": str(requirement.max_price_per_kg),
        "spec": requirement.spec,
        "state_code": requirement.state_code,
        "region": requirement.region,
        "visibility": requirement.visibility,
        "delivery_locations": [{"location_id": str(uuid.uuid4()), "radius_km": "50.00"}],
        "invited_partner_ids": sorted(str(pk) for pk in requirement.invited_partners.values_list("pk", flat=True)),
        **extra,
    }


def envelope(event_type: str, posting: Any, payload: dict[str, Any]) -> EventEnvelope:
    return EventEnvelope(
        id=str(uuid.uuid4()),
        position=1,
        type=event_type,
        version=1,
        occurred_at=datetime(2026, 6, 1, tzinfo=UTC),
        organization=str(posting.organization_id),
        partner=str(posting.partner_id),
        aggregate_type=posting._meta.label_lower,
        aggregate_id=str(posting.pk),
        actor=str(posting.created_by_id),
        correlation_id="",
        payload=payload,
    )


def routed_groups(event: EventEnvelope) -> list[str]:
    return [audience.group for audience, _ in route_posting_event(event)]


def market_groups(organization_id: Any) -> list[str]:
    return [market_topic(organization_id), market_topic(organization_id, "COTTON")]


# --- who may follow the market --------------------------------------------------------------------


@pytest.mark.django_db
def test_partner_users_and_staff_of_the_organization_may_follow_its_market(
    seller_viewer, desk_manager, kyc_officer, organization, cotton
):
    for user in (seller_viewer, desk_manager, kyc_officer):
        assert topic_permitted(user, f"market.{organization.pk}")
        assert topic_permitted(user, f"market.{organization.pk}.COTTON")


@pytest.mark.django_db
def test_no_one_else_may_follow_an_organizations_market(
    organization, foreign_partner, other_org_desk_manager, seller_viewer, cotton
):
    applicant = ExternalUserFactory(organization=organization)
    for user in (foreign_partner.owner, other_org_desk_manager, applicant, SuperAdminFactory()):
        assert not topic_permitted(user, f"market.{organization.pk}"), user
        assert not topic_permitted(user, f"market.{organization.pk}.COTTON"), user
    for topic in (
        f"market.{organization.pk}.KAPAS",  # no such commodity
        f"market.{organization.pk}.cotton",
        f"market.{organization.pk}.COTTON.more",
        f"market.{str(organization.pk).upper()}",
        "market.not-an-id",
    ):
        assert not topic_permitted(seller_viewer, topic), topic


# --- which events reach the market ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event_type", "status", "extra"),
    [
        (events.AVAILABILITY_CREATED, "DRAFT", {}),
        (events.AVAILABILITY_UPDATED, "DRAFT", {"changed": {"price": {"from": "1", "to": "2"}}}),
        (events.AVAILABILITY_SUBMITTED, "PENDING_APPROVAL", {}),
        (events.AVAILABILITY_REJECTED, "REJECTED", {"reason": "bad quality"}),
        (events.AVAILABILITY_CANCELLED, "CANCELLED", {"previous_status": "DRAFT"}),
        (events.AVAILABILITY_CANCELLED, "CANCELLED", {"previous_status": "PENDING_APPROVAL"}),
        (events.AVAILABILITY_EXPIRED, "EXPIRED", {"previous_status": "RESERVED"}),
    ],
)
def test_events_of_postings_never_on_the_market_do_not_reach_it(seller, cotton, event_type, status, extra):
    posting = factories.availability(seller, cotton, status=status)

    assert route_posting_event(envelope(event_type, posting, availability_payload(posting, **extra))) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event_type", "status", "available", "extra"),
    [
        (events.AVAILABILITY_APPROVED, "ACTIVE", True, {"note": "ok"}),
        (events.AVAILABILITY_RELEASED, "ACTIVE", True, {"reason": "negotiation_failed"}),
        (events.AVAILABILITY_RESERVED, "ACTIVE", True, {"quantity_kg": "1700.000", "reference": "NEG-1"}),
        (events.AVAILABILITY_RESERVED, "RESERVED", False, {"quantity_kg": "17000.000"}),
        (events.AVAILABILITY_SOLD, "SOLD", False, {"reference": "TR-1"}),
        (events.AVAILABILITY_CANCELLED, "CANCELLED", True, {"previous_status": "ACTIVE", "reason": "sold outside"}),
        (events.AVAILABILITY_EXPIRED, "EXPIRED", True, {"previous_status": "ACTIVE"}),
    ],
)
def test_events_that_put_a_public_offer_on_the_market_change_it_or_take_it_off_reach_it(
    seller, cotton, organization, event_type, status, available, extra
):
    fields: dict[str, Any] = {"status": status}
    if not available:
        fields.update(available_kg=0, sold_kg=17000)
    posting = factories.availability(seller, cotton, **fields)

    assert routed_groups(envelope(event_type, posting, availability_payload(posting, **extra))) == market_groups(
        organization.pk
    )


@pytest.mark.django_db
def test_requirement_events_reach_the_market_while_live_and_when_they_leave_it(buyer, cotton, organization):
    live = factories.requirement(buyer, cotton)
    fulfilled = factories.requirement(buyer, cotton, status="FULFILLED", fulfilled_kg=live.max_kg)
    draft = factories.requirement(buyer, cotton, status="DRAFT")

    def groups(event_type: str, posting: Requirement, **extra: Any) -> list[str]:
        return routed_groups(envelope(event_type, posting, requirement_payload(posting, **extra)))

    market = market_groups(organization.pk)
    assert groups(events.REQUIREMENT_PUBLISHED, live) == market
    assert groups(events.REQUIREMENT_UPDATED, live, changed={"max_price": {"from": "1", "to": "2"}}) == market
    assert groups(events.REQUIREMENT_FULFILLED, fulfilled, reference="TR-1") == market
    assert groups(events.REQUIREMENT_CREATED, draft) == []
    assert groups(events.REQUIREMENT_CANCELLED, draft, previous_status="DRAFT") == []


@pytest.mark.django_db
def test_an_update_that_takes_a_requirement_private_tells_the_market_it_left(buyer, cotton, organization):
    now_private = factories.requirement(buyer, cotton, visibility=Visibility.PRIVATE)
    payload = requirement_payload(now_private, changed={"visibility": {"from": "PUBLIC", "to": "PRIVATE"}})

    routed = route_posting_event(envelope(events.REQUIREMENT_UPDATED, now_private, payload))

    assert [audience.group for audience, _ in routed] == market_groups(organization.pk)
    anonymous = routed[0][1]
    assert (anonymous["visibility"], anonymous["changed"]) == (
        "PRIVATE",
        {"visibility": {"from": "PUBLIC", "to": "PRIVATE"}},
    )


@pytest.mark.django_db
def test_a_private_offer_reaches_only_its_owner_and_the_staff(seller, cotton, organization):
    posting = factories.availability(seller, cotton, visibility=Visibility.PRIVATE)

    messages = messages_for(envelope(events.AVAILABILITY_APPROVED, posting, availability_payload(posting)))

    assert [group for group, _ in messages] == [f"org.{organization.pk}", f"partner.{seller.pk}"]


@pytest.mark.django_db
def test_a_restricted_offer_reaches_only_invited_partners_of_its_organization(
    seller, buyer, cotton, foreign_partner, organization
):
    posting = factories.availability(seller, cotton, visibility=Visibility.RESTRICTED)
    posting.invited_partners.set([buyer])
    # Even should a payload name them, the poster itself and another organization's partner are no invitees.
    payload = availability_payload(posting)
    payload["invited_partner_ids"] = [str(buyer.pk), str(foreign_partner.pk), str(seller.pk)]

    messages = messages_for(envelope(events.AVAILABILITY_APPROVED, posting, payload))

    assert [group for group, _ in messages] == [
        f"org.{organization.pk}",
        f"partner.{seller.pk}",
        f"partner.{buyer.pk}",
    ]
    assert messages[1][1]["event"]["payload"] == payload  # the owner: in full
    anonymous = messages[2][1]["event"]["payload"]
    assert "invited_partner_ids" not in anonymous
    assert "number" not in anonymous


@pytest.mark.django_db
def test_the_market_payload_is_anonymised_with_the_rating_band(seller, cotton, organization):
    BusinessPartner.objects.filter(pk=seller.pk).update(risk_category="HIGH")
    posting = factories.availability(seller, cotton, number="AV/2026-27/000003")
    payload = availability_payload(posting, note="approved by Mehta", auto_approved=False)

    routed = route_posting_event(envelope(events.AVAILABILITY_APPROVED, posting, payload))

    assert [payload for _, payload in routed] == [routed[0][1]] * 2
    assert routed[0][1] == {
        "availability_id": str(posting.pk),
        "status": "ACTIVE",
        "commodity_id": str(cotton.pk),
        "commodity_code": "COTTON",
        "variety_id": None,
        "variety_code": None,
        "quantity": str(posting.quantity),
        "quantity_unit": "BALE",
        "total_kg": "17000",
        "available_kg": "17000",
        "price": "60000",
        "price_unit": "CANDY",
        "currency": "INR",
        "price_per_kg": "168.7194",
        "quality": factories.COTTON_QUALITY,
        "state_code": "GJ",
        "state_name": "Gujarat",
        "region": "WEST",
        "visibility": "PUBLIC",
        "rating_band": "C",
    }


# --- with the services' own payloads ---------------------------------------------------------------


def _routes_of(aggregate_id: Any) -> list[tuple[str, list[str], list[dict[str, Any]]]]:
    """(type, groups, payloads) of every event of a posting, in order, as the fan-out sends them."""
    rows = OutboxEvent.objects.filter(aggregate_id=str(aggregate_id)).order_by("position")
    routed = []
    for row in rows:
        messages = messages_for(EventEnvelope.from_row(row))
        routed.append((row.type, [group for group, _ in messages], [m["event"]["payload"] for _, m in messages]))
    return routed


@pytest.mark.django_db
def test_an_offer_through_the_services_reaches_the_market_when_approved_and_anonymised(
    seller, cotton, desk_manager, financial_year, organization
):
    from apps.tradedesk.services import availabilities

    posted = availabilities.availability_create(
        actor=seller.owner, partner_id=seller.pk, fields=factories.availability_fields(cotton)
    )
    availabilities.availability_submit(actor=seller.owner, availability_id=posted.pk)
    availabilities.availability_approve(actor=desk_manager, availability_id=posted.pk, note="Checked by Mehta")
    availabilities.availability_cancel(actor=seller.owner, availability_id=posted.pk, reason="Sold to Kadi Mills")
    posted.refresh_from_db()

    routes = _routes_of(posted.pk)

    own = [f"org.{organization.pk}", f"partner.{seller.pk}"]
    assert [(event_type, groups) for event_type, groups, _ in routes] == [
        (events.AVAILABILITY_CREATED, own),
        (events.AVAILABILITY_SUBMITTED, own),
        (events.AVAILABILITY_APPROVED, own + market_groups(organization.pk)),
        (events.AVAILABILITY_CANCELLED, own + market_groups(organization.pk)),
    ]
    for _, _, payloads in routes[2:]:
        anonymous = json.dumps(payloads[2:])
        for identifying in (str(seller.pk), seller.code, seller.legal_name, str(seller.owner.pk), posted.number):
            assert identifying not in anonymous
        assert "Mehta" not in anonymous
        assert "Kadi" not in anonymous
        assert payloads[1]["number"] == posted.number  # the owner sees it all
    assert routes[2][2][2]["status"] == "ACTIVE"
    assert routes[3][2][2]["status"] == "CANCELLED"


@pytest.mark.django_db
def test_a_requirement_through_the_services_reaches_the_market_when_published(
    buyer, cotton, financial_year, organization
):
    from apps.tradedesk.services import requirements

    wanted = requirements.requirement_create(
        actor=buyer.owner, partner_id=buyer.pk, fields=factories.requirement_fields(cotton)
    )
    requirements.requirement_publish(actor=buyer.owner, requirement_id=wanted.pk)
    wanted.refresh_from_db()

    routes = _routes_of(wanted.pk)

    own = [f"org.{organization.pk}", f"partner.{buyer.pk}"]
    assert [(event_type, groups) for event_type, groups, _ in routes] == [
        (events.REQUIREMENT_CREATED, own),
        (events.REQUIREMENT_PUBLISHED, own + market_groups(organization.pk)),
    ]
    anonymous = json.dumps(routes[1][2][2:])
    for identifying in (str(buyer.pk), buyer.code, buyer.legal_name, wanted.number, str(factories.coimbatore().pk)):
        assert identifying not in anonymous
    assert routes[1][2][2]["max_price_per_kg"] == str(wanted.max_price_per_kg)


# --- over real sockets --------------------------------------------------------------------------------


@pytest.fixture
def sockets() -> Any:
    """`await sockets.open(user, topics)`: a stream socket of `user` (its `ready` frame read and
    its topics subscribed); all closed at teardown (see apps/realtime/tests/conftest.py)."""

    class Sockets:
        def __init__(self) -> None:
            self.opened: list[WebsocketCommunicator] = []

        async def open(self, user: Any, topics: tuple[str, ...] = ()) -> WebsocketCommunicator:
            from cotton_erp.asgi import application

            issued = await sync_to_async(ticket_issue)(user_id=user.pk)
            socket = WebsocketCommunicator(application, f"{STREAM}?ticket={issued.ticket}", headers=HEADERS)
            self.opened.append(socket)
            connected, _ = await socket.connect(timeout=3)
            assert connected
            assert (await socket.receive_json_from(timeout=3))["type"] == "ready"
            for topic in topics:
                await socket.send_json_to({"action": "subscribe", "topic": topic})
                assert await socket.receive_json_from(timeout=3) == {"type": "subscribed", "topic": topic}
            return socket

    return Sockets()


@pytest_asyncio.fixture
async def close_sockets(sockets: Any) -> Any:
    yield
    await asyncio.gather(*(socket.disconnect(timeout=0.5) for socket in sockets.opened))
    await database_sync_to_async(connections.close_all)()


def _relay_until_idle() -> int:
    from apps.events.relay import relay_until_idle

    try:
        return relay_until_idle(max_seconds=10)
    finally:
        connections.close_all()


relay_all: Callable[[], Any] = sync_to_async(_relay_until_idle, thread_sensitive=False)


def emit_committed(event_type: str, posting: Any, payload: dict[str, Any]) -> OutboxEvent:
    with transaction.atomic():
        return emit(
            event_type,
            aggregate=posting,
            actor=posting.created_by,
            organization_id=posting.organization_id,
            partner_id=posting.partner_id,
            payload=payload,
        )


async def _all_frames(socket: WebsocketCommunicator) -> list[str]:
    frames = []
    while not await socket.receive_nothing(timeout=0.4):
        output = await socket.receive_output(timeout=1)
        frames.append(output.get("text", ""))
    return frames


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("close_sockets")
async def test_a_partner_of_another_organization_hears_nothing_of_this_organizations_postings(
    sockets, seller, buyer, cotton, foreign_partner, other_organization, organization
):
    other_partner_user = foreign_partner.owner
    public = await sync_to_async(factories.availability)(seller, cotton)
    restricted = await sync_to_async(factories.availability)(seller, cotton, visibility=Visibility.RESTRICTED)
    private = await sync_to_async(factories.availability)(seller, cotton, visibility=Visibility.PRIVATE)
    wanted = await sync_to_async(factories.requirement)(buyer, cotton)
    # A control: a posting of its own organization's market does reach the socket.
    neighbour = await sync_to_async(partner_factories.approved_partner)(other_organization)
    theirs = await sync_to_async(factories.availability)(neighbour, cotton)
    await relay_all()  # the onboarding's events, before anyone listens
    # Everything it may follow: its own partner group (joined on connect) and its organization's market.
    stranger = await sockets.open(
        other_partner_user, (market_topic(other_organization.pk), market_topic(other_organization.pk, "COTTON"))
    )
    for refused in (market_topic(organization.pk), market_topic(organization.pk, "COTTON")):
        await stranger.send_json_to({"action": "subscribe", "topic": refused})
        assert (await stranger.receive_json_from())["code"] == "topic_not_permitted"

    def post_everything() -> None:
        emit_committed(events.AVAILABILITY_APPROVED, public, availability_payload(public))
        payload = availability_payload(restricted)
        payload["invited_partner_ids"] = [str(foreign_partner.pk)]  # never reaches another organization
        emit_committed(events.AVAILABILITY_APPROVED, restricted, payload)
        emit_committed(events.AVAILABILITY_APPROVED, private, availability_payload(private))
        emit_committed(events.REQUIREMENT_PUBLISHED, wanted, requirement_payload(wanted))
        emit_committed(
            events.AVAILABILITY_CANCELLED,
            public,
            availability_payload(public, status="CANCELLED", previous_status="ACTIVE"),
        )

        emit_committed(events.AVAILABILITY_APPROVED, theirs, availability_payload(theirs))

    await sync_to_async(post_everything)()
    assert await relay_all() == 6

    [only_frame] = await _all_frames(stranger)
    assert _decode(only_frame)["event"]["aggregate_id"] == str(theirs.pk)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("close_sockets")
async def test_the_market_hears_a_posting_without_the_posters_identity_and_the_poster_hears_it_all(
    sockets, seller, seller_trader, buyer, cotton, organization, desk_manager
):
    await sync_to_async(BusinessPartner.objects.filter(pk=seller.pk).update)(risk_category="LOW")
    posting = await sync_to_async(factories.availability)(seller, cotton, number="AV/2026-27/000011")
    await relay_all()
    topics = (market_topic(organization.pk), market_topic(organization.pk, "COTTON"))
    same_org_partner = await sockets.open(buyer.owner, topics)
    own_partner_user = await sockets.open(seller_trader, topics)
    staff = await sockets.open(desk_manager)
    payload = await sync_to_async(availability_payload)(
        posting, note="Approved for Shree Rajkot Ginning", partner_id=str(seller.pk)
    )

    event = await sync_to_async(emit_committed)(events.AVAILABILITY_APPROVED, posting, payload)
    await relay_all()

    # (2) A partner of the same organization: the market event, once, with nothing of the poster.
    [market_frame] = await _all_frames(same_org_partner)
    for identifying in (
        str(seller.pk),
        seller.code,
        seller.legal_name,
        "Shree Rajkot",
        str(seller.owner.pk),
        str(posting.created_by_id),
        "AV/2026-27/000011",
        str(posting.location_id),
    ):
        assert identifying not in market_frame, identifying
    frame = _decode(market_frame)
    assert frame["event"]["id"] == str(event.pk)
    assert frame["event"]["aggregate_id"] == str(posting.pk)
    assert set(frame["event"]) == {"id", "position", "type", "occurred_at", "aggregate_type", "aggregate_id", "payload"}
    assert frame["event"]["payload"]["rating_band"] == "A"
    assert frame["event"]["payload"]["available_kg"] == "17000"
    # (3) The poster's own users: the full payload (once, though they follow the market too).
    [own_frame] = await _all_frames(own_partner_user)
    assert _decode(own_frame)["event"]["payload"] == payload
    assert "AV/2026-27/000011" in own_frame
    # Staff of the organization: in full, through their organization's group.
    [staff_frame] = await _all_frames(staff)
    assert _decode(staff_frame)["event"]["payload"] == payload


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("close_sockets")
async def test_a_restricted_posting_reaches_the_invited_partner_and_not_the_market(
    sockets, seller, buyer, cotton, organization
):
    uninvited = await sync_to_async(partner_factories.approved_partner)(organization, legal_name="Kadi Traders")
    posting = await sync_to_async(factories.availability)(seller, cotton, visibility=Visibility.RESTRICTED)
    await sync_to_async(posting.invited_partners.set)([buyer])
    await relay_all()
    topics = (market_topic(organization.pk), market_topic(organization.pk, "COTTON"))
    invited_socket = await sockets.open(buyer.owner)  # no topic needed: its partner group
    uninvited_socket = await sockets.open(uninvited.owner, topics)

    payload = await sync_to_async(availability_payload)(posting)
    await sync_to_async(emit_committed)(events.AVAILABILITY_APPROVED, posting, payload)
    await relay_all()

    [frame] = await _all_frames(invited_socket)
    for identifying in (str(seller.pk), seller.code, seller.legal_name, str(buyer.pk)):
        assert identifying not in frame, identifying
    assert _decode(frame)["event"]["payload"]["visibility"] == "RESTRICTED"
    assert await _all_frames(uninvited_socket) == []


def _decode(text: str) -> Any:
    return json.loads(text)
