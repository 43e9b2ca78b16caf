"""Routers: the groups a domain app adds to an event (topics, invited partners), each with its
own payload; and a socket subscribed to such a topic receives it."""

import uuid
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from apps.accounts.tests.factories import UserFactory
from apps.events.emit import emit
from apps.events.envelope import EventEnvelope
from apps.realtime import audience, topics
from apps.realtime.audience import Audience, register_audience_router, routed_audiences
from apps.realtime.fanout import messages_for

ORG, PARTNER, OTHER_PARTNER = (
    "0a0a0a0a-0000-4000-8000-00000000000a",
    "0b0b0b0b-0000-4000-8000-00000000000b",
    "0d0d0d0d-0000-4000-8000-00000000000d",
)


def envelope(event_type="shop.offer.published", payload=None):
    return EventEnvelope(
        id="9f9f9f9f-0000-4000-8000-000000000002",
        position=8,
        type=event_type,
        version=1,
        occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        organization=ORG,
        partner=PARTNER,
        aggregate_type="shop.offer",
        aggregate_id="o-1",
        actor="0c0c0c0c-0000-4000-8000-00000000000c",
        correlation_id="",
        payload=payload or {"price": "101.50", "seller": "Acme"},
    )


@pytest.fixture(autouse=True)
def _no_registered_routers(monkeypatch):
    monkeypatch.setattr(audience, "_filters", {})
    monkeypatch.setattr(audience, "_routers", {})


def _groups(messages):
    return [(group, message["event"]["payload"]) for group, message in messages]


def test_without_a_router_an_event_reaches_only_its_own_audiences():
    assert routed_audiences(envelope()) == []
    assert [group for group, _ in messages_for(envelope())] == [f"org.{ORG}", f"partner.{PARTNER}"]


def test_routed_groups_receive_the_payload_their_router_gives_them():
    register_audience_router(
        "shop.offer.*",
        lambda e: [
            (Audience("market", f"{e.organization}.COTTON"), {"price": e.payload["price"]}),
            (Audience("partner", OTHER_PARTNER), {"price": e.payload["price"], "invited": True}),
        ],
    )

    assert _groups(messages_for(envelope())) == [
        (f"org.{ORG}", {"price": "101.50", "seller": "Acme"}),
        (f"partner.{PARTNER}", {"price": "101.50", "seller": "Acme"}),
        (f"market.{ORG}.COTTON", {"price": "101.50"}),
        (f"partner.{OTHER_PARTNER}", {"price": "101.50", "invited": True}),
    ]


def test_a_group_the_event_already_reaches_keeps_its_first_payload():
    register_audience_router(
        "shop.*",
        lambda e: [(Audience("partner", PARTNER), {"price": "x"}), (Audience("market", ORG), {"a": 1})],
    )
    register_audience_router(
        "shop.offer.*", lambda e: [(Audience("market", ORG), {"a": 1}), (Audience("market", ORG), {"a": 2})]
    )

    assert _groups(messages_for(envelope())) == [
        (f"org.{ORG}", {"price": "101.50", "seller": "Acme"}),
        (f"partner.{PARTNER}", {"price": "101.50", "seller": "Acme"}),
        (f"market.{ORG}", {"a": 1}),
    ]


def test_the_most_specific_router_decides():
    register_audience_router("*", lambda e: [(Audience("market", "any"), {})])
    register_audience_router("shop.*", lambda e: [(Audience("market", "shop"), {})])
    register_audience_router("shop.offer.published", lambda e: [(Audience("market", "exact"), {})])

    assert [a.group for a, _ in routed_audiences(envelope())] == ["market.exact"]
    assert [a.group for a, _ in routed_audiences(envelope("shop.offer.withdrawn"))] == ["market.shop"]
    assert [a.group for a, _ in routed_audiences(envelope("risk.alert.raised"))] == ["market.any"]


def test_a_group_name_the_channel_layer_would_refuse_is_skipped_not_sent():
    register_audience_router(
        "shop.*",
        lambda e: [
            (Audience("market", "bad name!"), {}),
            (Audience("market", "x" * 120), {}),
            (Audience("market", "ok"), {}),
        ],
    )

    assert [group for group, _ in messages_for(envelope())] == [f"org.{ORG}", f"partner.{PARTNER}", "market.ok"]


def test_a_filter_withholding_the_event_from_its_own_audience_does_not_stop_a_routed_group():
    audience.register_audience_filter("shop.*", lambda e, to: None)
    register_audience_router("shop.*", lambda e: [(Audience("market", ORG), {"price": "101.50"})])

    assert _groups(messages_for(envelope())) == [(f"market.{ORG}", {"price": "101.50"})]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_socket_subscribed_to_a_routed_topic_receives_only_the_routed_payload(open_stream, relay, monkeypatch):
    monkeypatch.setattr(topics, "_checkers", dict(topics._checkers))
    topics.register_topic("shopfeed", lambda user, topic: True)
    register_audience_router(
        "shop.offer.*", lambda e: [(Audience("shopfeed", e.organization), {"price": e.payload["price"]})]
    )
    subscriber = await sync_to_async(UserFactory)()  # staff of another organization: not in org.<ORG>
    socket = await open_stream(subscriber)
    organization_id = str(uuid.uuid4())
    await socket.send_json_to({"action": "subscribe", "topic": f"shopfeed.{organization_id}"})
    assert await socket.receive_json_from() == {"type": "subscribed", "topic": f"shopfeed.{organization_id}"}

    def emit_committed():
        with transaction.atomic():
            emit(
                "shop.offer.published",
                aggregate_type="shop.offer",
                aggregate_id=uuid.uuid4(),
                organization_id=organization_id,
                payload={"price": "99.00", "seller": "Acme"},
            )

    await sync_to_async(emit_committed)()
    await relay()

    frame = await socket.receive_json_from()
    assert frame["event"]["type"] == "shop.offer.published"
    assert frame["event"]["payload"] == {"price": "99.00"}
    assert await socket.receive_nothing(timeout=0.3)
