"""Live updates of the trade desk over the websocket stream (apps.realtime).

Every `tradedesk.availability.*` / `tradedesk.requirement.*` event reaches, in full, the
organization's staff (`org.<org id>`) and the poster's own partner users (`partner.<poster>`):
realtime's own audiences. This module adds the market:

- `market.<org id>` (every commodity) and `market.<org id>.<COMMODITY CODE>` (one commodity):
  topics partner users and staff of that organization may subscribe to (`may_follow_market`).
  PUBLIC postings' events go there.
- `partner.<invitee>`: RESTRICTED postings' events go to the groups of the invited partners of
  the same organization (and nowhere else on the market). PRIVATE ones reach no market group.

Market groups get the anonymised payload (market.market_event_payload: allow-listed fields and
the rating band; the frame carries neither the envelope's partner nor its actor), and only for
events of a posting that is on the market after the event (live) or was on it before (a sale,
reservation, expiry, cancellation or visibility change that takes it off, so clients drop it).
A draft's, a pending or a rejected posting's events never reach the market.

Registered from `AppConfig.ready()` through resolvers.register_resolvers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from apps.accounts.models import UserType
from apps.commodities.models import UPPER_CODE_REGEX, Commodity
from apps.events.envelope import EventEnvelope
from apps.partners.models import BusinessPartner
from apps.partners.selectors import membership_of
from apps.realtime.audience import Audience, RoutedAudience
from apps.tradedesk import events, market
from apps.tradedesk.models import Visibility

MARKET_TOPIC = "market"
AVAILABILITY_EVENTS = "tradedesk.availability.*"
REQUIREMENT_EVENTS = "tradedesk.requirement.*"

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_MARKET_TOPIC_RE = re.compile(rf"^{MARKET_TOPIC}\.(?P<org>{_UUID})(?:\.(?P<commodity>[A-Z][A-Z0-9_]*))?$")

# Events after which a posting may have left the market without saying where it came from
# (no `previous_status` in the payload): the market hears them if the posting was listed.
_LEAVING_WITHOUT_PREVIOUS = {
    events.AVAILABILITY_RESERVED,
    events.AVAILABILITY_SOLD,
    events.REQUIREMENT_FULFILLED,
    events.REQUIREMENT_FULFILMENT_CHANGED,
}


def market_topic(organization_id: Any, commodity_code: str | None = None) -> str:
    topic = f"{MARKET_TOPIC}.{organization_id}"
    return f"{topic}.{commodity_code}" if commodity_code else topic


def may_follow_market(user: Any, topic: str) -> bool:
    """`market.<org id>[.<commodity code>]`: staff of that organization, and users acting for a
    partner of it. Not platform admins (they follow `org.<id>`, which has everything in full),
    not applicants, not another organization's users."""
    match = _MARKET_TOPIC_RE.fullmatch(topic)
    if match is None or str(getattr(user, "organization_id", "") or "") != match["org"]:
        return False
    user_type = getattr(user, "user_type", None)
    if user_type == UserType.INTERNAL:
        allowed = True
    elif user_type == UserType.EXTERNAL:
        membership = membership_of(user)
        allowed = membership is not None and str(membership.partner.organization_id) == match["org"]
    else:
        allowed = False
    if allowed and match["commodity"]:
        allowed = re.fullmatch(UPPER_CODE_REGEX, match["commodity"]) is not None and (
            Commodity.objects.filter(code=match["commodity"]).exists()
        )
    return allowed


# --- routing --------------------------------------------------------------------------------------


def _state_listed(kind: str, status: Any) -> bool:
    states = market.LISTED_AVAILABILITY_STATES if kind == "availability" else market.LISTED_REQUIREMENT_STATES
    return status in states


def _is_listed(kind: str, payload: Mapping[str, Any]) -> bool:
    if not _state_listed(kind, payload.get("status")):
        return False
    if kind == "availability":
        try:
            return Decimal(str(payload.get("available_kg") or 0)) > 0
        except InvalidOperation:
            return False
    return True


def _was_listed(envelope: EventEnvelope, kind: str, listed_now: bool) -> bool:
    payload = envelope.payload
    if "previous_status" in payload:
        # A cancellation or expiry: of a posting that was on the market, or not (a draft, a
        # pending one, an availability already RESERVED in full).
        return _state_listed(kind, payload["previous_status"])
    if envelope.type in _LEAVING_WITHOUT_PREVIOUS:
        return True
    if envelope.type in (events.AVAILABILITY_UPDATED, events.REQUIREMENT_UPDATED):
        return listed_now  # an update changes no state: it was where it is
    return False


def _previous(payload: Mapping[str, Any], key: str) -> Any:
    changed = payload.get("changed")
    if isinstance(changed, Mapping) and isinstance(changed.get(key), Mapping) and "from" in changed[key]:
        return changed[key]["from"]
    return payload.get(key)


def _market_groups(envelope: EventEnvelope, visibility: Any, invited: Any) -> list[Audience]:
    organization = str(envelope.organization)
    commodity_code = envelope.payload.get("commodity_code")
    if visibility == Visibility.PUBLIC:
        groups = [Audience(MARKET_TOPIC, str(organization))]
        if commodity_code:
            groups.append(Audience(MARKET_TOPIC, f"{organization}.{commodity_code}"))
        return groups
    if visibility == Visibility.RESTRICTED and isinstance(invited, list) and invited:
        ids = [str(partner_id) for partner_id in invited if str(partner_id) != envelope.partner]
        # Only partners of the posting's organization, whatever the payload says.
        same_organization = BusinessPartner.objects.filter(pk__in=ids, organization_id=organization)
        return [Audience("partner", str(pk)) for pk in same_organization.order_by("pk").values_list("pk", flat=True)]
    return []


def _band_of(partner_id: str | None) -> str:
    if not partner_id:
        return market.UNRATED
    risk = BusinessPartner.objects.filter(pk=partner_id).values_list("risk_category", flat=True).first()
    return market.rating_band(risk)


def route_posting_event(envelope: EventEnvelope) -> list[RoutedAudience]:
    """The market groups of a posting event, each with the anonymised payload."""
    if not envelope.organization:
        return []
    kind = "availability" if envelope.type.startswith("tradedesk.availability.") else "requirement"
    payload = envelope.payload
    listed_now = _is_listed(kind, payload)
    was_listed = _was_listed(envelope, kind, listed_now)
    audiences: list[Audience] = []
    if listed_now:
        audiences += _market_groups(envelope, payload.get("visibility"), payload.get("invited_partner_ids"))
    if was_listed:
        # What saw it before (a visibility or invitation change): told too, so it drops it.
        audiences += _market_groups(
            envelope, _previous(payload, "visibility"), _previous(payload, "invited_partner_ids")
        )
    if not audiences:
        return []
    allowed = market.AVAILABILITY_MARKET_FIELDS if kind == "availability" else market.REQUIREMENT_MARKET_FIELDS
    anonymous = market.market_event_payload(payload, allowed=allowed, band=_band_of(envelope.partner))
    unique = list(dict.fromkeys(audiences))
    return [(audience, anonymous) for audience in unique]


def register_realtime() -> None:
    from apps.realtime.audience import register_audience_router
    from apps.realtime.topics import register_topic

    register_topic(MARKET_TOPIC, may_follow_market)
    register_audience_router(AVAILABILITY_EVENTS, route_posting_event)
    register_audience_router(REQUIREMENT_EVENTS, route_posting_event)
