"""Live negotiations and trades over the websocket stream (apps.realtime).

Every `trades.negotiation.*` event reaches the organization's staff (`org.<org id>`, realtime's
own audience), both parties' partner groups (`partner.<buyer>`, `partner.<seller>`) and the
topic `negotiation.<negotiation id>`, which only the two parties' users and the organization's
staff (and platform admins) may subscribe to. `trades.trade.*` events reach the staff and both
parties. Parties see the whole payload: identities are revealed to both once a negotiation has
started, and nothing in these payloads concerns anyone else.

Registered from `AppConfig.ready()` through resolvers.register_resolvers.
"""

from __future__ import annotations

import re
from typing import Any

from apps.accounts.models import UserType
from apps.events.envelope import EventEnvelope
from apps.partners.selectors import membership_of
from apps.realtime.audience import Audience, RoutedAudience
from apps.trades.models import Negotiation

NEGOTIATION_TOPIC = "negotiation"
NEGOTIATION_EVENTS = "trades.negotiation.*"
TRADE_EVENTS = "trades.trade.*"

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_TOPIC_RE = re.compile(rf"^{NEGOTIATION_TOPIC}\.(?P<id>{_UUID})$")


def negotiation_topic(negotiation_id: Any) -> str:
    return f"{NEGOTIATION_TOPIC}.{negotiation_id}"


def may_follow_negotiation(user: Any, topic: str) -> bool:
    """`negotiation.<id>`: users of its buyer or seller, staff of its organization, platform admins."""
    match = _TOPIC_RE.fullmatch(topic)
    if match is None:
        return False
    found = Negotiation.objects.filter(pk=match["id"]).values("organization_id", "buyer_id", "seller_id").first()
    if found is None:
        return False
    user_type = getattr(user, "user_type", None)
    if user_type == UserType.SUPER_ADMIN:
        return True
    if user_type == UserType.INTERNAL:
        return str(getattr(user, "organization_id", "")) == str(found["organization_id"])
    if user_type == UserType.EXTERNAL:
        membership = membership_of(user)
        return membership is not None and membership.partner_id in (found["buyer_id"], found["seller_id"])
    return False


def _parties(envelope: EventEnvelope) -> list[Audience]:
    payload = envelope.payload
    return [Audience("partner", str(payload[key])) for key in ("buyer_id", "seller_id") if payload.get(key)]


def route_negotiation_event(envelope: EventEnvelope) -> list[RoutedAudience]:
    audiences = [Audience(NEGOTIATION_TOPIC, str(envelope.payload.get("negotiation_id") or envelope.aggregate_id))]
    audiences += _parties(envelope)
    return [(audience, envelope.payload) for audience in audiences]


def route_trade_event(envelope: EventEnvelope) -> list[RoutedAudience]:
    return [(audience, envelope.payload) for audience in _parties(envelope)]


def register_realtime() -> None:
    from apps.realtime.audience import register_audience_router
    from apps.realtime.topics import register_topic

    register_topic(NEGOTIATION_TOPIC, may_follow_negotiation)
    register_audience_router(NEGOTIATION_EVENTS, route_negotiation_event)
    register_audience_router(TRADE_EVENTS, route_trade_event)
