"""Availabilities, a seller's offer (SPEC section 7): created and changed in DRAFT, submitted
(PENDING_APPROVAL, numbered from the organization's AVAILABILITY series; straight to ACTIVE when
the organization's setting `auto_approve_availabilities` is true), approved or rejected by the
desk, cancelled by the seller side, expired by the beat job. Reserving, releasing and selling
quantity is `services.reservations`.

Who: posting (create, update, submit) as `permissions.ensure_can_post(actor, partner, "sell")`;
approving and rejecting as `permissions.ensure_can_approve_availability` plus maker-checker (the
staff member who keyed an availability may not approve it); cancelling by the partner's members
with the trade right or staff with tradedesk.change_availability. A SUSPENDED partner's users may
still cancel (it only withdraws an offer); a BLOCKED partner's users may not (the desk does it).

Locks, in this order: the availability row (`locks.lock_availability`), its reservations, the
ship-from location FOR SHARE (`locations.services.lock_location_for_reference`: a location cannot
be deactivated under an open availability), then the document series (numbering, last). Every
check runs before the first write, inside the transaction: a refusal leaves nothing behind.

Quantities are entered in any active unit and kept with the factor used and in kg
(`conversions.to_kg`); the minimum order is entered in the quantity's unit. Prices are per
price unit and per kg, computed exactly and rounded once to the 4 places the model keeps (as the
requirements do, so matching compares like with like). Quality values are cleaned by
`commodities.quality.validate_quality` and stored with Decimals as strings. A day-only offer
expires at the end of the local day (the location's timezone) on which it becomes available, or
at `available_until` if that comes first; any other at `available_until`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.accounts.models import User
from apps.commodities.conversions import exact, resolve_unit, round_half_up, to_kg
from apps.commodities.models import Commodity, TermKind, TradeTerm, Unit, Variety
from apps.commodities.quality import validate_quality
from apps.core.errors import PermissionDenied
from apps.events.emit import emit
from apps.locations.errors import LocationInactive, LocationNotFound
from apps.locations.models import Location
from apps.locations.services import lock_location_for_reference
from apps.organizations.models import DocumentType, Organization
from apps.organizations.services import next_document_number
from apps.partners.errors import PartnerBlocked, PartnerNotFound
from apps.partners.models import Branch, BusinessPartner, PartnerStatus
from apps.partners.permissions import TRADE_FOR_PARTNER, ensure_partner_permission, is_member_of, is_staff_of
from apps.tradedesk import events
from apps.tradedesk.errors import (
    AvailabilityExpired,
    AvailabilityInvalid,
    AvailabilityMakerChecker,
    InvalidTransition,
)
from apps.tradedesk.locks import lock_availability
from apps.tradedesk.models import Availability, AvailabilityStatus, Reservation, ReservationStatus, Visibility
from apps.tradedesk.permissions import SELL, ensure_can_approve_availability, ensure_can_post, ensure_partner_may_trade

CHANGE_AVAILABILITY = "tradedesk.change_availability"
AUTO_APPROVE_SETTING = "auto_approve_availabilities"

DRAFT = AvailabilityStatus.DRAFT
PENDING_APPROVAL = AvailabilityStatus.PENDING_APPROVAL
ACTIVE = AvailabilityStatus.ACTIVE
RESERVED = AvailabilityStatus.RESERVED
# On the market (reservable while ACTIVE); open ones also hold their location.
LIVE_STATES: tuple[str, ...] = (ACTIVE, RESERVED)
OPEN_STATES: tuple[str, ...] = (DRAFT, PENDING_APPROVAL, ACTIVE, RESERVED)
CANCELLABLE_STATES = OPEN_STATES

INPUT_FIELDS = frozenset(
    {
        "commodity_id",
        "variety_id",
        "quantity",
        "quantity_unit",
        "min_order",
        "partial_allowed",
        "price",
        "price_unit",
        "currency",
        "quality",
        "ship_from_branch_id",
        "location_id",
        "delivery_term_id",
        "available_from",
        "available_until",
        "day_only",
        "visibility",
        "invited_partner_ids",
    }
)
NOTE_MAX_LENGTH = 500
PER_KG_PLACES = 4
MAX_KG = Decimal(10) ** 13  # the kg columns hold 16 digits, 3 of them decimals
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# The stored minimum order in kg, when a change does not enter a new one.
_KEPT_MIN_ORDER_KG = "_min_order_kg"


# --- input cleaning -----------------------------------------------------------------------------


@dataclass
class _UnitFactor:
    """A unit with the factor used (the one stored on the row unless the unit itself changes)."""

    unit: Unit
    code: str
    factor_to_kg: Decimal


@dataclass
class _Cleaned:
    fields: dict[str, Any]
    invited: list[BusinessPartner] = field(default_factory=list)


def _invalid(attr: str, code: str, detail: str) -> AvailabilityInvalid:
    return AvailabilityInvalid(attr, code, detail)


def _uuid(raw: object, attr: str, code: str) -> UUID:
    if isinstance(raw, UUID):
        return raw
    try:
        return UUID(str(raw))
    except (TypeError, ValueError, AttributeError):
        raise _invalid(attr, code, f"{raw!r} is not an id.") from None


def _number(raw: object, attr: str, *, places: int, max_digits: int) -> Decimal:
    """A Decimal with at most `places` decimals and `max_digits` digits; floats are refused."""
    if isinstance(raw, float):
        raise TypeError(f"{attr} must be a Decimal, int or str, not float")
    if isinstance(raw, bool) or raw is None:
        raise _invalid(attr, "not_a_number", f"{attr} must be a number.")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        raise _invalid(attr, "not_a_number", f"{attr} must be a number, not {raw!r}.") from None
    if not value.is_finite():
        raise _invalid(attr, "not_a_number", f"{attr} must be a finite number.")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise _invalid(attr, "too_many_decimals", f"{attr} has at most {places} decimals; got {value}.")
    if abs(value) >= Decimal(10) ** (max_digits - places):
        raise _invalid(attr, "too_large", f"{attr} is too large: {value}.")
    return value


def _datetime(raw: object, attr: str) -> datetime:
    parsed = raw if isinstance(raw, datetime) else parse_datetime(raw) if isinstance(raw, str) else None
    if parsed is None or timezone.is_naive(parsed):
        raise _invalid(attr, "not_a_datetime", f"{attr} must be a date and time with its UTC offset.")
    return parsed


def _flag(raw: Mapping[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _invalid(key, "not_a_boolean", f"{key} is true or false.")
    return value


def _required(raw: Mapping[str, Any], key: str) -> Any:
    value = raw.get(key)
    if value is None or value == "":
        raise _invalid(key, "required", f"{key} is required.")
    return value


def _unit(raw: object, attr: str, default: Unit) -> _UnitFactor:
    if isinstance(raw, _UnitFactor):
        return raw
    if raw is None or raw == "":
        return _UnitFactor(default, default.code, default.factor_to_kg)
    if not isinstance(raw, str):
        raise _invalid(attr, "unknown_unit", f"{attr} is a unit code such as BALE or CANDY.")
    unit = cast(Unit, resolve_unit(raw, field=attr))
    return _UnitFactor(unit, unit.code, unit.factor_to_kg)


def _per_kg(price: Decimal, unit: _UnitFactor) -> Decimal:
    """The price per kg: price / factor, exact, rounded once (half up) to 4 places."""
    return round_half_up(exact(price, name="price") / exact(unit.factor_to_kg, name="factor"), PER_KG_PLACES)


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _clean_commodity(raw: Mapping[str, Any], current: Availability | None) -> Commodity:
    commodity_id = _uuid(_required(raw, "commodity_id"), "commodity_id", "commodity_invalid")
    commodities = Commodity.objects.select_related("trade_unit", "rate_unit").prefetch_related("parameters")
    commodities = commodities.filter(pk=commodity_id)
    if current is None or current.commodity_id != commodity_id:
        commodities = commodities.filter(is_active=True)
    commodity = commodities.first()
    if commodity is None:
        raise _invalid("commodity_id", "commodity_invalid", "No active commodity has this id.")
    return commodity


def _clean_variety(raw: Mapping[str, Any], commodity: Commodity, current: Availability | None) -> Variety | None:
    if raw.get("variety_id") in (None, ""):
        return None
    variety_id = _uuid(raw["variety_id"], "variety_id", "variety_invalid")
    varieties = Variety.objects.filter(pk=variety_id, commodity_id=commodity.pk)
    if current is None or current.variety_id != variety_id:
        varieties = varieties.filter(is_active=True)
    variety = varieties.first()
    if variety is None:
        raise _invalid("variety_id", "variety_invalid", f"This is not an active variety of {commodity.code}.")
    return variety


def _clean_quantity(raw: Mapping[str, Any], commodity: Commodity) -> dict[str, Any]:
    unit = _unit(raw.get("quantity_unit"), "quantity_unit", commodity.trade_unit)
    quantity = _number(_required(raw, "quantity"), "quantity", places=3, max_digits=16)
    if quantity <= 0:
        raise _invalid("quantity", "quantity_invalid", f"quantity must be more than zero; got {quantity}.")
    total_kg = to_kg(quantity, unit)
    if total_kg <= 0:
        raise _invalid("quantity", "quantity_invalid", f"quantity {quantity} {unit.code} is less than a gram.")
    if total_kg >= MAX_KG:
        raise _invalid("quantity", "too_large", f"quantity {quantity} {unit.code} is too large.")
    if raw.get("min_order") is not None:
        min_order = _number(raw["min_order"], "min_order", places=3, max_digits=16)
        if min_order < 0:
            raise _invalid("min_order", "min_order_invalid", f"min_order must not be negative; got {min_order}.")
        min_order_kg = to_kg(min_order, unit)
    else:
        min_order_kg = raw.get(_KEPT_MIN_ORDER_KG) or Decimal(0)
    if min_order_kg > total_kg:
        raise _invalid(
            "min_order",
            "min_order_invalid",
            f"The minimum order ({min_order_kg} kg) is more than the quantity offered ({total_kg} kg).",
        )
    return {
        "quantity": quantity,
        "quantity_unit": unit.unit,
        "quantity_unit_factor": unit.factor_to_kg,
        "total_kg": total_kg,
        "available_kg": total_kg,
        "min_order_kg": min_order_kg,
        "partial_allowed": _flag(raw, "partial_allowed", True),
    }


def _clean_price(raw: Mapping[str, Any], commodity: Commodity, organization: Organization) -> dict[str, Any]:
    unit = _unit(raw.get("price_unit"), "price_unit", commodity.rate_unit)
    price = _number(_required(raw, "price"), "price", places=2, max_digits=16)
    if price <= 0:
        raise _invalid("price", "price_invalid", f"price must be more than zero; got {price}.")
    per_kg = _per_kg(price, unit)
    if per_kg <= 0 or per_kg >= Decimal(10) ** 10:
        raise _invalid("price", "price_invalid", f"price {price} per {unit.code} is not a usable price per kg.")
    currency = raw.get("currency") or organization.base_currency
    if not isinstance(currency, str) or not _CURRENCY_RE.match(currency):
        raise _invalid("currency", "currency_invalid", "currency is a three-letter ISO 4217 code such as INR.")
    return {
        "price": price,
        "price_unit": unit.unit,
        "price_unit_factor": unit.factor_to_kg,
        "price_per_kg": per_kg,
        "currency": currency,
    }


def _locked_location(location_id: UUID, attr: str, detail: str) -> Location:
    try:
        return lock_location_for_reference(location_id)
    except (LocationNotFound, LocationInactive):
        raise _invalid(attr, "location_invalid", detail) from None


def _clean_ship_from(raw: Mapping[str, Any], partner: BusinessPartner) -> dict[str, Any]:
    """Either a branch of the seller (active, able to send, with a location: the offer's location
    is the branch's) or a location; the location is taken FOR SHARE."""
    branch_raw, location_raw = raw.get("ship_from_branch_id"), raw.get("location_id")
    if branch_raw in (None, "") and location_raw in (None, ""):
        raise _invalid(
            "location_id", "ship_from_required", "Give where the goods ship from: ship_from_branch_id or location_id."
        )
    if branch_raw not in (None, "") and location_raw not in (None, ""):
        raise _invalid(
            "ship_from_branch_id",
            "ship_from_ambiguous",
            "Give ship_from_branch_id or location_id, not both: a branch's location is its own.",
        )
    branch: Branch | None = None
    if branch_raw not in (None, ""):
        branch_id = _uuid(branch_raw, "ship_from_branch_id", "branch_invalid")
        branch = Branch.objects.filter(pk=branch_id, partner_id=partner.pk, is_active=True).first()
        if branch is None:
            raise _invalid("ship_from_branch_id", "branch_invalid", "This is not an active branch of the seller.")
        if not branch.can_send:
            raise _invalid("ship_from_branch_id", "branch_cannot_send", f"Branch {branch.code} does not send goods.")
        if branch.location_id is None:
            raise _invalid(
                "ship_from_branch_id",
                "branch_without_location",
                f"Branch {branch.code} has no location; set one on the branch or give location_id.",
            )
        location = _locked_location(
            branch.location_id, "ship_from_branch_id", f"The location of branch {branch.code} is deactivated."
        )
    else:
        location_id = _uuid(location_raw, "location_id", "location_invalid")
        location = _locked_location(location_id, "location_id", "No active location has this id.")
    return {
        "ship_from_branch": branch,
        "location": location,
        "state_code": location.state_code,
        "region": location.region,
    }


def _clean_term(raw: Mapping[str, Any], current_id: UUID | None) -> TradeTerm | None:
    if raw.get("delivery_term_id") in (None, ""):
        return None
    term_id = _uuid(raw["delivery_term_id"], "delivery_term_id", "term_invalid")
    terms = TradeTerm.objects.filter(pk=term_id, kind=TermKind.DELIVERY)
    if term_id != current_id:
        terms = terms.filter(is_active=True)
    term = terms.first()
    if term is None:
        raise _invalid("delivery_term_id", "term_invalid", "delivery_term_id must be an active delivery term.")
    return term


def day_end(instant: datetime, zone_name: str) -> datetime:
    """The end of the local day (the next local midnight) of `instant` in the IANA zone."""
    zone = ZoneInfo(zone_name)
    local_day = instant.astimezone(zone).date()
    return datetime.combine(local_day + timedelta(days=1), time.min, tzinfo=zone)


def _clean_window(raw: Mapping[str, Any], location: Location, now: datetime) -> dict[str, Any]:
    available_from = _datetime(raw.get("available_from") or now, "available_from")
    available_until = _datetime(_required(raw, "available_until"), "available_until")
    if available_until <= available_from:
        raise _invalid(
            "available_until", "window_invalid", "The window ends (available_until) before it starts (available_from)."
        )
    day_only = _flag(raw, "day_only", False)
    expires_at = available_until
    if day_only:
        expires_at = min(day_end(available_from, location.timezone), available_until)
    if expires_at <= now:
        attr = "available_from" if day_only and expires_at < available_until else "available_until"
        raise _invalid(attr, "window_passed", "The offer would already have expired: its window lies in the past.")
    return {
        "available_from": available_from,
        "available_until": available_until,
        "day_only": day_only,
        "expires_at": expires_at,
    }


def _clean_visibility(raw: Mapping[str, Any]) -> str:
    value = raw.get("visibility") or Visibility.PUBLIC
    if value not in Visibility.values:
        raise _invalid(
            "visibility", "visibility_invalid", f"visibility is one of {', '.join(Visibility.values)}; got {value!r}."
        )
    return str(value)


def _clean_invited(raw: Mapping[str, Any], visibility: str, partner: BusinessPartner) -> list[BusinessPartner]:
    ids = raw.get("invited_partner_ids") or []
    if not isinstance(ids, (list, tuple)):
        raise _invalid("invited_partner_ids", "invited_partners_invalid", "invited_partner_ids is a list of ids.")
    if visibility != Visibility.RESTRICTED:
        if ids:
            raise _invalid(
                "invited_partner_ids",
                "invited_partners_invalid",
                "Only a RESTRICTED availability invites partners; PUBLIC and PRIVATE ones invite nobody.",
            )
        return []
    if not ids:
        raise _invalid(
            "invited_partner_ids", "invited_partners_invalid", "A RESTRICTED availability invites at least one partner."
        )
    wanted = {_uuid(raw_id, "invited_partner_ids", "invited_partners_invalid") for raw_id in ids}
    found = list(
        BusinessPartner.objects.filter(pk__in=wanted, organization_id=partner.organization_id)
        .exclude(pk=partner.pk)
        .order_by("pk")
    )
    if len(found) != len(wanted):
        raise _invalid(
            "invited_partner_ids",
            "invited_partners_invalid",
            "Invite other partners of your organization only (an id is unknown, foreign or your own).",
        )
    return found


def _clean(
    *, raw: Mapping[str, Any], partner: BusinessPartner, current: Availability | None, now: datetime
) -> _Cleaned:
    commodity = _clean_commodity(raw, current)
    fields: dict[str, Any] = {"commodity": commodity, "variety": _clean_variety(raw, commodity, current)}
    fields.update(_clean_quantity(raw, commodity))
    fields.update(_clean_price(raw, commodity, partner.organization))
    quality = validate_quality(commodity, raw.get("quality") or {})
    fields["quality"] = {code: _plain(v) if isinstance(v, Decimal) else v for code, v in quality.items()}
    fields.update(_clean_ship_from(raw, partner))
    fields["delivery_term"] = _clean_term(raw, current.delivery_term_id if current else None)
    fields.update(_clean_window(raw, fields["location"], now))
    fields["visibility"] = _clean_visibility(raw)
    invited = _clean_invited(raw, fields["visibility"], partner)
    return _Cleaned(fields=fields, invited=invited)


def _refuse_unknown(data: Mapping[str, Any]) -> None:
    unknown = set(data) - INPUT_FIELDS
    if unknown:
        raise ValueError(f"not an availability field: {sorted(unknown)}")


# --- snapshots: what changed, and the event payloads ---------------------------------------------


def _dec(value: Decimal | int | None, places: int) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal(1).scaleb(-places)))


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _snapshot(fields: Mapping[str, Any], invited_ids: Iterable[UUID]) -> dict[str, Any]:
    """The JSON-safe state of an availability's inputs and what derives from them (`fields`
    holds model field values: related objects for the foreign keys). No partner, branch or
    location identity: the market reads these (state and region only)."""

    def pk(name: str) -> str | None:
        obj = fields.get(name)
        return None if obj is None else str(obj.pk)

    return {
        "commodity_id": pk("commodity"),
        "variety_id": pk("variety"),
        "quantity": _dec(fields["quantity"], 3),
        "quantity_unit": fields["quantity_unit"].code,
        "quantity_unit_factor": _dec(fields["quantity_unit_factor"], 8),
        "total_kg": _dec(fields["total_kg"], 3),
        "min_order_kg": _dec(fields["min_order_kg"], 3),
        "partial_allowed": fields["partial_allowed"],
        "price": _dec(fields["price"], 2),
        "price_unit": fields["price_unit"].code,
        "price_unit_factor": _dec(fields["price_unit_factor"], 8),
        "currency": fields["currency"],
        "price_per_kg": _dec(fields["price_per_kg"], PER_KG_PLACES),
        "quality": fields["quality"],
        "state_code": fields["state_code"],
        "region": fields["region"],
        "delivery_term_id": pk("delivery_term"),
        "available_from": _instant(fields["available_from"]),
        "available_until": _instant(fields["available_until"]),
        "day_only": fields["day_only"],
        "expires_at": _instant(fields["expires_at"]),
        "visibility": fields["visibility"],
        "invited_partner_ids": sorted(str(partner_id) for partner_id in invited_ids),
    }


SNAPSHOT_FIELDS = (
    "commodity",
    "variety",
    "quantity",
    "quantity_unit",
    "quantity_unit_factor",
    "total_kg",
    "min_order_kg",
    "partial_allowed",
    "price",
    "price_unit",
    "price_unit_factor",
    "currency",
    "price_per_kg",
    "quality",
    "state_code",
    "region",
    "delivery_term",
    "available_from",
    "available_until",
    "day_only",
    "expires_at",
    "visibility",
)
# Inputs that are not in the snapshot but are changes all the same (they change no market field).
PRIVATE_FIELDS = ("ship_from_branch", "location")


def _snapshot_of(availability: Availability) -> dict[str, Any]:
    fields = {name: getattr(availability, name) for name in SNAPSHOT_FIELDS}
    return _snapshot(fields, availability.invited_partners.values_list("pk", flat=True))


def availability_payload(availability: Availability) -> dict[str, Any]:
    """What consumers of the availability events need (the market among them): commodity and
    variety, quantities in kg (as strings), prices per kg, quality, state and region, delivery
    term, window, visibility and status. The seller is not named here: the envelope carries
    `partner_id`, so the market fan-out can drop it; branch and location ids are left out too
    (invited_partner_ids are the invitees, for RESTRICTED visibility)."""
    return {
        "availability_id": str(availability.pk),
        "number": availability.number,
        "status": availability.status,
        "commodity_code": availability.commodity.code,
        "variety_code": availability.variety.code if availability.variety is not None else None,
        **_snapshot_of(availability),
        "available_kg": _dec(availability.available_kg, 3),
        "reserved_kg": _dec(availability.reserved_kg, 3),
        "sold_kg": _dec(availability.sold_kg, 3),
        "delivery_term_code": availability.delivery_term.code if availability.delivery_term is not None else None,
        "submitted_at": _instant(availability.submitted_at),
        "decided_at": _instant(availability.decided_at),
    }


def emit_availability_event(event_type: str, availability: Availability, actor: Any, **extra: Any) -> None:
    emit(
        event_type,
        aggregate=availability,
        actor=actor,
        organization_id=availability.organization_id,
        partner_id=availability.partner_id,
        payload={**availability_payload(availability), **extra},
    )


# --- writes ---------------------------------------------------------------------------------------


def _partner(partner_id: UUID) -> BusinessPartner:
    partner = BusinessPartner.objects.select_related("organization").filter(pk=partner_id).first()
    if partner is None:
        raise PartnerNotFound()
    return partner


def _reason(value: str, attr: str, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise _invalid(attr, "required", f"A {attr} is required.")
    if len(value) > NOTE_MAX_LENGTH:
        raise _invalid(attr, "too_long", f"The {attr} has at most {NOTE_MAX_LENGTH} characters.")
    return value


def availability_create(*, actor: User, partner_id: UUID, data: Mapping[str, Any]) -> Availability:
    """A DRAFT availability of the partner (its members with the trade right, or desk staff
    keying it). Refuses a partner that may not sell now (403) and any invalid input (400 with the
    rule's code, see `AvailabilityInvalid`, and quality_invalid with `quality.<code>` errors).
    Emits tradedesk.availability.created."""
    _refuse_unknown(data)
    with transaction.atomic():
        partner = _partner(partner_id)
        ensure_can_post(actor, partner, SELL)
        cleaned = _clean(raw=data, partner=partner, current=None, now=timezone.now())
        availability = Availability(
            organization_id=partner.organization_id,
            partner=partner,
            created_by=actor,
            status=DRAFT,
            reserved_kg=Decimal(0),
            sold_kg=Decimal(0),
            **cleaned.fields,
        )
        availability.save()
        availability.invited_partners.set(cleaned.invited)
        emit_availability_event(events.AVAILABILITY_CREATED, availability, actor)
    return availability


def _current_inputs(availability: Availability) -> dict[str, Any]:
    """The availability as service input, so that a change is validated with everything it
    keeps. Units carry the factors stored on the row; the minimum order its stored kg."""
    return {
        "commodity_id": availability.commodity_id,
        "variety_id": availability.variety_id,
        "quantity": availability.quantity,
        "quantity_unit": _UnitFactor(
            availability.quantity_unit, availability.quantity_unit.code, availability.quantity_unit_factor
        ),
        _KEPT_MIN_ORDER_KG: availability.min_order_kg,
        "partial_allowed": availability.partial_allowed,
        "price": availability.price,
        "price_unit": _UnitFactor(
            availability.price_unit, availability.price_unit.code, availability.price_unit_factor
        ),
        "currency": availability.currency,
        "quality": availability.quality,
        "ship_from_branch_id": availability.ship_from_branch_id,
        "location_id": None if availability.ship_from_branch_id else availability.location_id,
        "delivery_term_id": availability.delivery_term_id,
        "available_from": availability.available_from,
        "available_until": availability.available_until,
        "day_only": availability.day_only,
        "visibility": availability.visibility,
        "invited_partner_ids": list(availability.invited_partners.values_list("pk", flat=True)),
    }


def _merged(availability: Availability, changes: Mapping[str, Any]) -> dict[str, Any]:
    raw = _current_inputs(availability)
    changes = dict(changes)
    for key in ("quantity_unit", "price_unit"):
        entered = changes.get(key)
        if isinstance(entered, str) and entered.strip().upper() == raw[key].code:
            del changes[key]  # the same unit: keep the factor stored on the row
    # A new quantity unit without a new min_order keeps the minimum order's weight in kg.
    if {"ship_from_branch_id", "location_id"} & set(changes):
        raw["ship_from_branch_id"] = raw["location_id"] = None  # one replaces the other
    if "visibility" in changes and changes["visibility"] != Visibility.RESTRICTED:
        raw["invited_partner_ids"] = []
    raw.update(changes)
    return raw


def availability_update(*, actor: User, availability_id: UUID, changes: Mapping[str, Any]) -> Availability:
    """Change a DRAFT availability (409 invalid_transition in any other state). The whole
    availability is validated again as it would be after the change (400 as on create; 403 when
    the partner may not sell now). Emits tradedesk.availability.updated with the current payload
    and `changed`: `{field: {"from": ..., "to": ...}}` for the market fields that changed
    (derived ones such as kg and the price per kg included) and `ship_from_changed`; nothing
    when nothing changed."""
    _refuse_unknown(changes)
    with transaction.atomic():
        availability = lock_availability(availability_id)
        partner = _partner(availability.partner_id)
        ensure_can_post(actor, partner, SELL)
        if availability.status != DRAFT:
            raise InvalidTransition(action="change the availability", current=availability.status, allowed=(DRAFT,))
        before = _snapshot_of(availability)
        cleaned = _clean(raw=_merged(availability, changes), partner=partner, current=availability, now=timezone.now())
        after = _snapshot(cleaned.fields, [p.pk for p in cleaned.invited])
        changed = {key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]}
        ship_from_changed = any(
            getattr(availability, f"{name}_id") != (cleaned.fields[name].pk if cleaned.fields[name] else None)
            for name in PRIVATE_FIELDS
        )
        if not changed and not ship_from_changed:
            return availability
        for name, value in cleaned.fields.items():
            setattr(availability, name, value)
        availability.save()
        if "invited_partner_ids" in changed:
            availability.invited_partners.set(cleaned.invited)
        emit_availability_event(
            events.AVAILABILITY_UPDATED, availability, actor, changed=changed, ship_from_changed=ship_from_changed
        )
    return availability


def _auto_approves(organization_id: UUID) -> bool:
    settings = Organization.objects.filter(pk=organization_id).values_list("settings", flat=True).first() or {}
    return isinstance(settings, dict) and settings.get(AUTO_APPROVE_SETTING) is True


def _ensure_ship_from_still_valid(availability: Availability) -> None:
    if availability.ship_from_branch_id is None:
        _locked_location(availability.location_id, "location_id", "The location is deactivated; choose another.")
        return
    branch = availability.ship_from_branch
    if branch is None or not branch.is_active or not branch.can_send or branch.location_id != availability.location_id:
        raise _invalid(
            "ship_from_branch_id",
            "branch_invalid",
            "The ship-from branch is deactivated, no longer sends goods or moved: change the ship-from.",
        )


def availability_submit(*, actor: User, availability_id: UUID) -> Availability:
    """DRAFT -> PENDING_APPROVAL, numbered AV/<FY>/NNNNNN from the organization's AVAILABILITY
    series (gapless: the number is taken last, in this transaction). With the organization setting
    `auto_approve_availabilities` true it goes on to ACTIVE at once (decided by nobody). Refuses
    another state (409 invalid_transition), a window that has passed and a ship-from that is no
    longer valid (400), a partner that may not sell now (403), a date outside every financial
    year (409). Emits tradedesk.availability.submitted (and .approved with `auto_approved`)."""
    with transaction.atomic():
        availability = lock_availability(availability_id)
        ensure_can_post(actor, _partner(availability.partner_id), SELL)
        if availability.status != DRAFT:
            raise InvalidTransition(action="submit", current=availability.status, allowed=(DRAFT,))
        now = timezone.now()
        if availability.expires_at <= now:
            raise _invalid("available_until", "window_passed", "The window has passed: change it, then submit.")
        _ensure_ship_from_still_valid(availability)
        availability.number = next_document_number(
            organization=availability.organization_id,
            doc_type=DocumentType.AVAILABILITY,
            on_date=timezone.localdate(now),
        )
        availability.status = PENDING_APPROVAL
        availability.submitted_at = now
        availability.save(update_fields=["number", "status", "submitted_at", "updated_at"])
        emit_availability_event(events.AVAILABILITY_SUBMITTED, availability, actor)
        if _auto_approves(availability.organization_id):
            availability.status = ACTIVE
            availability.decided_at = now
            availability.decision_note = "Approved automatically (organization setting)."
            availability.save(update_fields=["status", "decided_at", "decision_note", "updated_at"])
            emit_availability_event(events.AVAILABILITY_APPROVED, availability, None, auto_approved=True, note="")
    return availability


def _ensure_can_decide(actor: User, availability: Availability) -> None:
    """The desk decides: the seller's own users get 403 (they can see it), anyone else outside
    the organization's staff 404, staff without tradedesk.approve_availability 403."""
    if is_member_of(actor, _partner(availability.partner_id)):
        raise PermissionDenied("Only the desk approves or rejects availabilities.")
    ensure_can_approve_availability(actor, availability)


def availability_approve(*, actor: User, availability_id: UUID, note: str = "") -> Availability:
    """PENDING_APPROVAL -> ACTIVE: on the market. Desk staff of its organization with
    tradedesk.approve_availability (404 outside it, 403 without); not the staff member who keyed
    it (409 maker_checker_violation); the partner must still be allowed to sell (403) and the
    window must not have passed (409 availability_expired: reject it instead). Emits
    tradedesk.availability.approved."""
    note = _reason(note, "note", required=False)
    with transaction.atomic():
        availability = lock_availability(availability_id)
        _ensure_can_decide(actor, availability)
        if availability.status != PENDING_APPROVAL:
            raise InvalidTransition(action="approve", current=availability.status, allowed=(PENDING_APPROVAL,))
        if availability.created_by_id == actor.pk:
            raise AvailabilityMakerChecker()
        ensure_partner_may_trade(_partner(availability.partner_id), SELL)
        now = timezone.now()
        if availability.expires_at <= now:
            raise AvailabilityExpired()
        availability.status = ACTIVE
        availability.decided_by = actor
        availability.decided_at = now
        availability.decision_note = note
        availability.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
        emit_availability_event(events.AVAILABILITY_APPROVED, availability, actor, auto_approved=False, note=note)
    return availability


def availability_reject(*, actor: User, availability_id: UUID, reason: str) -> Availability:
    """PENDING_APPROVAL -> REJECTED with a reason (400 when blank), by desk staff with
    tradedesk.approve_availability. Emits tradedesk.availability.rejected with the reason."""
    reason = _reason(reason, "reason", required=True)
    with transaction.atomic():
        availability = lock_availability(availability_id)
        _ensure_can_decide(actor, availability)
        if availability.status != PENDING_APPROVAL:
            raise InvalidTransition(action="reject", current=availability.status, allowed=(PENDING_APPROVAL,))
        availability.status = AvailabilityStatus.REJECTED
        availability.decided_by = actor
        availability.decided_at = timezone.now()
        availability.decision_note = reason
        availability.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
        emit_availability_event(events.AVAILABILITY_REJECTED, availability, actor, reason=reason)
    return availability


def ensure_can_cancel(actor: User, availability: Availability) -> None:
    """The seller's members with the trade right (a SUSPENDED partner's too: cancelling only
    withdraws; not a BLOCKED one's) or staff with tradedesk.change_availability."""
    partner = _partner(availability.partner_id)
    ensure_partner_permission(
        actor, partner, partner_perm=TRADE_FOR_PARTNER, staff_perm=CHANGE_AVAILABILITY, write=False
    )
    if partner.status == PartnerStatus.BLOCKED and not is_staff_of(actor, partner.organization_id):
        raise PartnerBlocked()


def release_all_reservations(
    availability: Availability, *, actor: Any, reason: str, now: datetime
) -> list[Reservation]:
    """Release every ACTIVE reservation of a locked availability (they are locked here, after
    it) and give their quantity back in one UPDATE; each emits tradedesk.availability.released.
    Sold quantity stays sold. For the availability's own end (cancel, expiry)."""
    reservations = list(
        Reservation.objects.select_for_update()
        .filter(availability_id=availability.pk, status=ReservationStatus.ACTIVE)
        .order_by("id")
    )
    if not reservations:
        return []
    total = sum((r.quantity_kg for r in reservations), Decimal(0))
    Availability.objects.filter(pk=availability.pk).update(
        available_kg=F("available_kg") + total, reserved_kg=F("reserved_kg") - total, updated_at=now
    )
    availability.refresh_from_db(fields=["available_kg", "reserved_kg", "sold_kg", "status", "updated_at"])
    for reservation in reservations:
        reservation.status = ReservationStatus.RELEASED
        reservation.closed_at = now
        reservation.save(update_fields=["status", "closed_at", "updated_at"])
        emit_availability_event(
            events.AVAILABILITY_RELEASED,
            availability,
            actor,
            reservation_id=str(reservation.pk),
            quantity_kg=_dec(reservation.quantity_kg, 3),
            reservation_status=reservation.status,
            reason=reason,
        )
    return reservations


def availability_cancel(*, actor: User, availability_id: UUID, reason: str = "") -> Availability:
    """DRAFT, PENDING_APPROVAL, ACTIVE or RESERVED -> CANCELLED by the seller side (see
    `ensure_can_cancel`); 409 invalid_transition from any other state. Its ACTIVE reservations are
    released (each emits tradedesk.availability.released); what is sold stays sold. Emits
    tradedesk.availability.cancelled with the reason, the state it left and the kg released."""
    reason = _reason(reason, "reason", required=False)
    with transaction.atomic():
        availability = lock_availability(availability_id)
        ensure_can_cancel(actor, availability)
        if availability.status not in CANCELLABLE_STATES:
            raise InvalidTransition(action="cancel", current=availability.status, allowed=CANCELLABLE_STATES)
        previous = availability.status
        now = timezone.now()
        released = release_all_reservations(availability, actor=actor, reason="availability_cancelled", now=now)
        availability.status = AvailabilityStatus.CANCELLED
        availability.save(update_fields=["status", "updated_at"])
        emit_availability_event(
            events.AVAILABILITY_CANCELLED,
            availability,
            actor,
            reason=reason,
            previous_status=previous,
            released_kg=_dec(sum((r.quantity_kg for r in released), Decimal(0)), 3),
        )
    return availability


def availabilities_expire_due(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """ACTIVE or RESERVED availabilities whose expiry (available_until, or the end of the local
    day for day-only offers) has come -> EXPIRED, their ACTIVE reservations released, each with
    tradedesk.availability.expired. Idempotent: an expired availability is never picked again,
    and rows locked by a concurrent change are left for the next run (SKIP LOCKED). Returns how
    many expired."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            due = list(
                Availability.objects.select_for_update(skip_locked=True)
                .filter(status__in=LIVE_STATES, expires_at__lte=now)
                .order_by("expires_at", "id")[:batch_size]
            )
            for availability in due:
                previous = availability.status
                release_all_reservations(availability, actor=None, reason="availability_expired", now=now)
                availability.status = AvailabilityStatus.EXPIRED
                availability.save(update_fields=["status", "updated_at"])
                emit_availability_event(events.AVAILABILITY_EXPIRED, availability, None, previous_status=previous)
        expired += len(due)
        if len(due) < batch_size:
            return expired
