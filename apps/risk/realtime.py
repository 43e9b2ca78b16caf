"""Live risk events over the websocket stream (apps.realtime).

risk.* events reach, in full, their organization's staff (`org.<org id>`) and the partner they
are about (`partner.<partner id>`): realtime's own audiences. This module adds the risk desk:

- `riskdesk.<org id>`: a topic the organization's risk officers (staff holding
  risk.view_creditaccount) may subscribe to; every risk.exposure.alert,
  risk.credit_limit.changed and risk.assessment.recorded of the organization goes there.

Registered from `AppConfig.ready()`.
"""

from __future__ import annotations

import re
from typing import Any

from apps.accounts.models import UserType
from apps.events.envelope import EventEnvelope
from apps.realtime.audience import Audience, RoutedAudience
from apps.risk.permissions import VIEW_CREDIT

RISK_DESK_TOPIC = "riskdesk"
RISK_EVENTS = "risk.*"
_TOPIC_RE = re.compile(
    rf"^{RISK_DESK_TOPIC}\.(?P<org>[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}})$"
)


def risk_desk_topic(organization_id: Any) -> str:
    return f"{RISK_DESK_TOPIC}.{organization_id}"


def may_follow_risk_desk(user: Any, topic: str) -> bool:
    """`riskdesk.<org id>`: staff of that organization with risk.view_creditaccount."""
    match = _TOPIC_RE.fullmatch(topic)
    if match is None or getattr(user, "user_type", None) != UserType.INTERNAL:
        return False
    if str(getattr(user, "organization_id", "") or "") != match["org"]:
        return False
    return bool(user.has_perm(VIEW_CREDIT))


def route_risk_event(envelope: EventEnvelope) -> list[RoutedAudience]:
    if not envelope.organization:
        return []
    return [(Audience(RISK_DESK_TOPIC, envelope.organization), envelope.payload)]


def register_realtime() -> None:
    from apps.realtime.audience import register_audience_router
    from apps.realtime.topics import register_topic

    register_topic(RISK_DESK_TOPIC, may_follow_risk_desk)
    register_audience_router(RISK_EVENTS, route_risk_event)
