"""Routing and filtering of events, without sockets."""

from datetime import UTC, datetime

import pytest

from apps.events.envelope import EventEnvelope
from apps.realtime import audience
from apps.realtime.audience import Audience, audiences_for_event, payload_for, register_audience_filter
from apps.realtime.fanout import messages_for
from apps.realtime.topics import register_topic, topic_permitted

ORG, PARTNER, USER = (
    "0a0a0a0a-0000-4000-8000-00000000000a",
    "0b0b0b0b-0000-4000-8000-00000000000b",
    "0c0c0c0c-0000-4000-8000-00000000000c",
)


def envelope(
    event_type="tradedesk.trade.created", *, partner=PARTNER, aggregate_type="tradedesk.trade", aggregate_id="t-1"
):
    return EventEnvelope(
        id="9f9f9f9f-0000-4000-8000-000000000001",
        position=7,
        type=event_type,
        version=1,
        occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        organization=ORG,
        partner=partner,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        actor=None,
        correlation_id="",
        payload={"price": "101.50"},
    )


@pytest.fixture(autouse=True)
def _no_registered_filters(monkeypatch):
    monkeypatch.setattr(audience, "_filters", {})


def test_an_event_goes_to_its_organization_and_its_partner():
    assert [a.group for a in audiences_for_event(envelope())] == [f"org.{ORG}", f"partner.{PARTNER}"]


def test_an_event_about_a_user_also_goes_to_that_user():
    event = envelope("accounts.user.created", partner=None, aggregate_type="accounts.user", aggregate_id=USER)

    assert [a.group for a in audiences_for_event(event)] == [f"org.{ORG}", f"user.{USER}"]


def test_by_default_staff_and_the_partner_see_the_whole_payload():
    event = envelope()

    assert payload_for(event, Audience("org", ORG)) == {"price": "101.50"}
    assert payload_for(event, Audience("partner", PARTNER)) == {"price": "101.50"}
    assert [group for group, _ in messages_for(event)] == [f"org.{ORG}", f"partner.{PARTNER}"]


def test_the_most_specific_filter_decides():
    register_audience_filter("*", lambda e, a: {"from": "*"})
    register_audience_filter("tradedesk.*", lambda e, a: {"from": "tradedesk.*"})
    register_audience_filter("tradedesk.trade.created", lambda e, a: {"from": "exact"})

    assert payload_for(envelope(), Audience("org", ORG)) == {"from": "exact"}
    assert payload_for(envelope("tradedesk.trade.cancelled"), Audience("org", ORG)) == {"from": "tradedesk.*"}
    assert payload_for(envelope("risk.alert.raised"), Audience("org", ORG)) == {"from": "*"}


def test_a_filter_returning_none_withholds_the_event_from_that_audience():
    register_audience_filter("tradedesk.*", lambda e, a: None if a.kind == "partner" else e.payload)

    assert [group for group, _ in messages_for(envelope())] == [f"org.{ORG}"]


def test_a_deactivated_user_gets_the_event_then_a_force_close():
    event = envelope("accounts.user.deactivated", partner=None, aggregate_type="accounts.user", aggregate_id=USER)

    messages = messages_for(event)

    assert [(group, message["type"]) for group, message in messages] == [
        (f"org.{ORG}", "event"),
        (f"user.{USER}", "event"),
        (f"user.{USER}", "force.close"),
    ]
    assert messages[-1][1] == {"type": "force.close", "code": 4403}
    assert messages[0][1]["event"] == {
        "id": "9f9f9f9f-0000-4000-8000-000000000001",
        "position": 7,
        "type": "accounts.user.deactivated",
        "occurred_at": "2026-01-02T03:04:05+00:00",
        "aggregate_type": "accounts.user",
        "aggregate_id": USER,
        "payload": {"price": "101.50"},
    }


def test_the_longest_registered_prefix_decides_a_topic(monkeypatch):
    monkeypatch.setattr("apps.realtime.topics._checkers", {})
    register_topic("market", lambda user, topic: True)
    register_topic("market.closed", lambda user, topic: False)

    assert topic_permitted(object(), "market.org1.cotton")
    assert not topic_permitted(object(), "market.closed.cotton")
    assert not topic_permitted(object(), "market")
    assert not topic_permitted(object(), "negotiation.n1")
