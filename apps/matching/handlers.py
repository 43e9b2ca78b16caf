"""What starts matching: handlers on the event backbone (ARCHITECTURE section 8), registered from
`MatchingConfig.ready()`. The relay calls each in its handler transaction (a savepoint with the
handler's processed marker): a failure rolls the handler's writes back and the relay retries the
event, then dead-letters it with the reason; a retry re-runs an idempotent match.

- `tradedesk.requirement.*`: the requirement against every active offer (published, updated,
  fulfilment changes; expired, cancelled, fulfilled withdraw its proposals).
- `tradedesk.availability.*`: the offer against every open requirement (approved or
  auto-approved, updated price/quantity/quality, released; reserved in full, sold, expired,
  cancelled withdraw).
- partner status, KYC and capability changes, and `risk.credit_limit.changed`: every open
  posting of the partner, and the postings its active proposals pair it with.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from apps.events.envelope import EventEnvelope
from apps.events.registry import register_handler
from apps.matching.locks import MATCHING_SERIAL
from apps.matching.services import proposals

REQUIREMENT_EVENTS = "tradedesk.requirement.*"
AVAILABILITY_EVENTS = "tradedesk.availability.*"
PARTNER_EVENTS = (
    "partners.partner.status_changed",
    "partners.partner.capabilities_changed",
    "partners.kyc.expired",
    "partners.kyc.renewed",
)
# The risk app's event (SPEC section 12), by name: matching reacts to it without importing risk.
CREDIT_LIMIT_CHANGED = "risk.credit_limit.changed"


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except (TypeError, ValueError):
        return None


def on_requirement_event(envelope: EventEnvelope) -> None:
    requirement_id = _uuid(envelope.aggregate_id)
    if requirement_id is not None:
        proposals.requirement_match(requirement_id=requirement_id)


def on_availability_event(envelope: EventEnvelope) -> None:
    availability_id = _uuid(envelope.aggregate_id)
    if availability_id is not None:
        proposals.availability_match(availability_id=availability_id)


def on_partner_event(envelope: EventEnvelope) -> None:
    """The partner named on the envelope, else in the payload (`partner_id`)."""
    partner_id = _uuid(envelope.partner) or _uuid(envelope.payload.get("partner_id"))
    if partner_id is not None:
        proposals.partner_match(partner_id=partner_id)


def register_handlers() -> None:
    # One relay worker at a time runs matching (locks.py says why).
    register_handler(REQUIREMENT_EVENTS, on_requirement_event, name="matching.requirement", serial=MATCHING_SERIAL)
    register_handler(AVAILABILITY_EVENTS, on_availability_event, name="matching.availability", serial=MATCHING_SERIAL)
    for event_type in (*PARTNER_EVENTS, CREDIT_LIMIT_CHANGED):
        register_handler(event_type, on_partner_event, name=f"matching.partner:{event_type}", serial=MATCHING_SERIAL)
