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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.commodities.conversions import to_kg
from apps.commodities.models import Commodity, TermKind, Unit
from apps.commodities.quality import validate_quality
from apps.core.errors import FieldError, FieldErrors, PermissionDenied
from apps.core.unset import UNSET, Unset, given_fields
from apps.events.emit import emit
from apps.locations.errors import LocationInactive, LocationNotFound
from apps.locations.locks import lock_location_for_reference
from apps.locations.models import Location
from apps.organizations.models import DocumentType, Organization
from apps.organizations.services.numbering import next_document_number
from apps.partners.errors import PartnerBlocked
from apps.partners.models import Branch, BusinessPartner, PartnerStatus
from apps.partners.permissions import TRADE_FOR_PARTNER, ensure_partner_permission, is_member_of, is_staff_of
from apps.tradedesk import events
from apps.tradedesk.errors import (
    AvailabilityExpired,
    AvailabilityInvalid,
    AvailabilityMakerChecker,
    InvalidTransition,
)
from apps.tradedesk.inputs import (
    PER_KG_PLACES,
    Cleaned,
    Inputs,
    UnitFactor,
    dec,
    instant,
    jsonable,
    merged_inputs,
    per_kg,
    posting_partner,
)
from apps.tradedesk.locks import lock_availability
from apps.tradedesk.models import Availability, AvailabilityStatus, Reservation, ReservationStatus, Visibility
from apps.tradedesk.permissions import SELL, ensure_can_approve_availability, ensure_can_post, ensure_partner_may_trade
from apps.tradedesk.services.risk import availability_risk_on_submit

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


@dataclass(frozen=True, kw_only=True)
class AvailabilityFields:
    """What a seller enters for an availability, for `availability_create` and
    `availability_update`. Every field defaults to UNSET: on create a required one left out is
    refused with the other errors (400, all at once), on update it keeps its value. The types are
    what the API's serializer parses to; the service still checks every rule on them (a form's
    string is read as the API would read it), so a caller never has to pre-validate.

    Units are codes (BALE, CANDY ...); quantities and the minimum order are in `quantity_unit`,
    the price per `price_unit`; `quality` holds values per parameter code; a ship-from is a
    branch of the seller or a location (giving one on update replaces the other)."""

    commodity_id: UUID | Unset = UNSET
    variety_id: UUID | Unset | None = UNSET
    quantity: Decimal | Unset = UNSET
    quantity_unit: str | Unset = UNSET
    min_order: Decimal | Unset | None = UNSET
    partial_allowed: bool | Unset = UNSET
    price: Decimal | Unset = UNSET
    price_unit: str | Unset = UNSET
    currency: str | Unset = UNSET
    quality: Mapping[str, Any] | Unset = UNSET
    ship_from_branch_id: UUID | Unset | None = UNSET
    location_id: UUID | Unset | None = UNSET
    delivery_term_id: UUID | Unset | None = UNSET
    available_from: datetime | Unset = UNSET
    available_until: datetime | Unset = UNSET
    day_only: bool | Unset = UNSET
    visibility: str | Unset = UNSET
    invited_partner_ids: Sequence[UUID] | Unset = UNSET


NOTE_MAX_LENGTH = 500
MAX_KG = Decimal(10) ** 13  # the kg columns hold 16 digits, 3 of them decimals
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# The stored minimum order in kg, when a change does not enter a new one.
_KEPT_MIN_ORDER_KG = "_min_order_kg"


# --- input cleaning -----------------------------------------------------------------------------


_in = Inputs(AvailabilityInvalid, noun="availability")
_invalid = AvailabilityInvalid


def _unit(raw: Mapping[str, Any], attr: str, default: Unit | None, check: FieldErrors) -> UnitFactor | None:
    """The unit entered, or the commodity's default; None when refused or when there is no
    commodity to default from (its own error is reported)."""
    if default is None and raw.get(attr) in (None, ""):
        return None
    return check.run(lambda: _in.unit(raw.get(attr), attr, default=default))


def _positive(raw: Mapping[str, Any], attr: str, code: str, *, places: int) -> Decimal:
    value = _in.number(_in.required(raw, attr), attr, places=places, max_digits=16)
    if value <= 0:
        raise _invalid(attr, code, f"{attr} must be more than zero; got {value}.")
    return value


def _clean_quantity(raw: Mapping[str, Any], commodity: Commodity | None, check: FieldErrors) -> dict[str, Any]:
    """Unit, quantity and minimum order, each refused on its own; the checks in kg need all."""
    unit = _unit(raw, "quantity_unit", commodity.trade_unit if commodity else None, check)
    quantity = check.run(lambda: _positive(raw, "quantity", "quantity_invalid", places=3))
    min_order: Decimal | None = None
    if raw.get("min_order") is not None:

        def read_min_order() -> Decimal:
            value = _in.number(raw["min_order"], "min_order", places=3, max_digits=16)
            if value < 0:
                raise _invalid("min_order", "min_order_invalid", f"min_order must not be negative; got {value}.")
            return value

        min_order = check.run(read_min_order)
    partial_allowed = check.run(lambda: _in.flag(raw, "partial_allowed", True))
    if unit is None or quantity is None or (raw.get("min_order") is not None and min_order is None):
        return {}

    def in_kg() -> dict[str, Any]:
        total_kg = to_kg(quantity, unit)
        if total_kg <= 0:
            raise _invalid("quantity", "quantity_invalid", f"quantity {quantity} {unit.code} is less than a gram.")
        if total_kg >= MAX_KG:
            raise _invalid("quantity", "too_large", f"quantity {quantity} {unit.code} is too large.")
        kept = raw.get(_KEPT_MIN_ORDER_KG) or Decimal(0)
        min_order_kg = to_kg(min_order, unit) if min_order is not None else kept
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
            "partial_allowed": partial_allowed,
        }

    return check.run(in_kg) or {}


def _clean_price(
    raw: Mapping[str, Any], commodity: Commodity | None, organization: Organization, check: FieldErrors
) -> dict[str, Any]:
    """Unit, price and currency, each refused on its own; the price per kg needs unit and price."""
    unit = _unit(raw, "price_unit", commodity.rate_unit if commodity else None, check)
    price = check.run(lambda: _positive(raw, "price", "price_invalid", places=2))

    def read_currency() -> str:
        currency = raw.get("currency") or organization.base_currency
        if not isinstance(currency, str) or not _CURRENCY_RE.match(currency):
            raise _invalid("currency", "currency_invalid", "currency is a three-letter ISO 4217 code such as INR.")
        return currency

    currency = check.run(read_currency)
    if unit is None or price is None:
        return {}

    def read_per_kg() -> Decimal:
        price_per_kg = per_kg(price, unit)
        if price_per_kg <= 0 or price_per_kg >= Decimal(10) ** 10:
            raise _invalid("price", "price_invalid", f"price {price} per {unit.code} is not a usable price per kg.")
        return price_per_kg

    price_per_kg = check.run(read_per_kg)
    return {
        "price": price,
        "price_unit": unit.unit,
        "price_unit_factor": unit.factor_to_kg,
        "price_per_kg": price_per_kg,
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
        branch_id = _in.uuid(branch_raw, "ship_from_branch_id", "branch_invalid")
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
        location_id = _in.uuid(location_raw, "location_id", "location_invalid")
        location = _locked_location(location_id, "location_id", "No active location has this id.")
    return {
        "ship_from_branch": branch,
        "location": location,
        "state_code": location.state_code,
        "region": location.region,
    }


def day_end(instant: datetime, zone_name: str) -> datetime:
    """The end of the local day (the next local midnight) of `instant` in the IANA zone."""
    zone = ZoneInfo(zone_name)
    local_day = instant.astimezone(zone).date()
    return datetime.combine(local_day + timedelta(days=1), time.min, tzinfo=zone)


def _clean_window(raw: Mapping[str, Any], location: Location, now: datetime) -> dict[str, Any]:
    available_from = _in.datetime(raw.get("available_from") or now, "available_from")
    available_until = _in.datetime(_in.required(raw, "available_until"), "available_until")
    if available_until <= available_from:
        raise _invalid(
            "available_until", "window_invalid", "The window ends (available_until) before it starts (available_from)."
        )
    day_only = _in.flag(raw, "day_only", False)
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


def _clean(
    *,
    raw: Mapping[str, Any],
    partner: BusinessPartner,
    current: Availability | None,
    now: datetime,
    prior_errors: Sequence[FieldError] = (),
) -> Cleaned:
    """Every field cleaned, every refusal collected (core.errors.FieldErrors): one refusal is
    raised as itself, several as availability_invalid listing them, and with `prior_errors` (the
    API's type checks) as validation_failed listing all. A field that depends on a refused one
    (the quantity in kg on its unit, the window on the location) is not checked."""
    check = FieldErrors(prior_errors)
    commodity = check.run(lambda: _in.commodity(raw, current.commodity_id if current else None))
    fields: dict[str, Any] = {"commodity": commodity}
    if commodity is not None:
        fields["variety"] = check.run(lambda: _in.variety(raw, commodity, current.variety_id if current else None))
    fields.update(_clean_quantity(raw, commodity, check))
    fields.update(_clean_price(raw, commodity, partner.organization, check))
    if commodity is not None:
        fields["quality"] = check.run(lambda: jsonable(validate_quality(commodity, raw.get("quality") or {})))
    ship_from = check.run(lambda: _clean_ship_from(raw, partner))
    fields.update(ship_from or {})
    fields["delivery_term"] = check.run(
        lambda: _in.term(raw, "delivery_term_id", TermKind.DELIVERY, current.delivery_term_id if current else None)
    )
    if ship_from is not None:
        fields.update(check.run(lambda: _clean_window(raw, ship_from["location"], now)) or {})
    visibility = check.run(lambda: _in.choice(raw, "visibility", Visibility.values, Visibility.PUBLIC))
    fields["visibility"] = visibility
    invited = check.run(lambda: _in.invited(raw, visibility, partner)) if visibility is not None else None
    check.raise_if_any(AvailabilityInvalid.several)
    return Cleaned(fields=fields, invited=invited or [])


# --- snapshots: what changed, and the event payloads ---------------------------------------------


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
        "quantity": dec(fields["quantity"], 3),
        "quantity_unit": fields["quantity_unit"].code,
        "quantity_unit_factor": dec(fields["quantity_unit_factor"], 8),
        "total_kg": dec(fields["total_kg"], 3),
        "min_order_kg": dec(fields["min_order_kg"], 3),
        "partial_allowed": fields["partial_allowed"],
        "price": dec(fields["price"], 2),
        "price_unit": fields["price_unit"].code,
        "price_unit_factor": dec(fields["price_unit_factor"], 8),
        "currency": fields["currency"],
        "price_per_kg": dec(fields["price_per_kg"], PER_KG_PLACES),
        "quality": fields["quality"],
        "state_code": fields["state_code"],
        "region": fields["region"],
        "delivery_term_id": pk("delivery_term"),
        "available_from": instant(fields["available_from"]),
        "available_until": instant(fields["available_until"]),
        "day_only": fields["day_only"],
        "expires_at": instant(fields["expires_at"]),
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


def _snapshot_of(availability: Availability, invited_ids: Iterable[UUID] | None = None) -> dict[str, Any]:
    fields = {name: getattr(availability, name) for name in SNAPSHOT_FIELDS}
    if invited_ids is None:
        invited_ids = availability.invited_partners.values_list("pk", flat=True)
    return _snapshot(fields, invited_ids)


def availability_payload(availability: Availability, *, invited_ids: Iterable[UUID] | None = None) -> dict[str, Any]:
    """What consumers of the availability events need (the market among them): commodity and
    variety, quantities in kg (as strings), prices per kg, quality, state and region, delivery
    term, window, visibility and status. The seller is not named here: the envelope carries
    `partner_id`, so the market fan-out can drop it; branch and location ids are left out too
    (invited_partner_ids are the invitees, for RESTRICTED visibility; `invited_ids` when the
    caller read them already)."""
    return {
        "availability_id": str(availability.pk),
        "number": availability.number,
        "status": availability.status,
        "commodity_code": availability.commodity.code,
        "variety_code": availability.variety.code if availability.variety is not None else None,
        **_snapshot_of(availability, invited_ids),
        "available_kg": dec(availability.available_kg, 3),
        "reserved_kg": dec(availability.reserved_kg, 3),
        "sold_kg": dec(availability.sold_kg, 3),
        "delivery_term_code": availability.delivery_term.code if availability.delivery_term is not None else None,
        "submitted_at": instant(availability.submitted_at),
        "decided_at": instant(availability.decided_at),
    }


def emit_availability_event(event_type: str, availability: Availability, actor: User | None, **extra: Any) -> None:
    emit(
        event_type,
        aggregate=availability,
        actor=actor,
        organization_id=availability.organization_id,
        partner_id=availability.partner_id,
        payload={**availability_payload(availability), **extra},
    )


# --- writes ---------------------------------------------------------------------------------------


def _reason(value: str, attr: str, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise _invalid(attr, "required", f"A {attr} is required.")
    if len(value) > NOTE_MAX_LENGTH:
        raise _invalid(attr, "too_long", f"The {attr} has at most {NOTE_MAX_LENGTH} characters.")
    return value


def availability_create(
    *, actor: User, partner_id: UUID, fields: AvailabilityFields, prior_errors: Sequence[FieldError] = ()
) -> Availability:
    """A DRAFT availability of the partner (its members with the trade right, or desk staff
    keying it). Refuses a partner that may not sell now (403) and any invalid input (400 with
    every field's error at once: the rule's code when one field is wrong, see `AvailabilityInvalid`
    and quality_invalid with `quality.<code>` errors; availability_invalid when several are;
    validation_failed when `prior_errors`, the fields the API's type checks refused, are given).
    Emits tradedesk.availability.created."""
    data = given_fields(fields)
    with transaction.atomic():
        partner = posting_partner(partner_id)
        ensure_can_post(actor, partner, SELL)
        cleaned = _clean(raw=data, partner=partner, current=None, now=timezone.now(), prior_errors=prior_errors)
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
        "quantity_unit": UnitFactor.stored(availability.quantity_unit, availability.quantity_unit_factor),
        _KEPT_MIN_ORDER_KG: availability.min_order_kg,
        "partial_allowed": availability.partial_allowed,
        "price": availability.price,
        "price_unit": UnitFactor.stored(availability.price_unit, availability.price_unit_factor),
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
    # A new quantity unit without a new min_order keeps the minimum order's weight in kg.
    if {"ship_from_branch_id", "location_id"} & set(changes):
        raw["ship_from_branch_id"] = raw["location_id"] = None  # one replaces the other
    return merged_inputs(raw, changes)


def availability_update(
    *, actor: User, availability_id: UUID, changes: AvailabilityFields, prior_errors: Sequence[FieldError] = ()
) -> Availability:
    """Change a DRAFT availability (409 invalid_transition in any other state). The whole
    availability is validated again as it would be after the change (400 as on create; 403 when
    the partner may not sell now). Emits tradedesk.availability.updated with the current payload
    and `changed`: `{field: {"from": ..., "to": ...}}` for the market fields that changed
    (derived ones such as kg and the price per kg included) and `ship_from_changed`; nothing
    when nothing changed."""
    given = given_fields(changes)
    with transaction.atomic():
        availability = lock_availability(availability_id)
        partner = posting_partner(availability.partner_id)
        ensure_can_post(actor, partner, SELL)
        if availability.status != DRAFT:
            raise InvalidTransition(action="change the availability", current=availability.status, allowed=(DRAFT,))
        before = _snapshot_of(availability)
        cleaned = _clean(
            raw=_merged(availability, given),
            partner=partner,
            current=availability,
            now=timezone.now(),
            prior_errors=prior_errors,
        )
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
    longer valid (400), a partner that may not sell now (403), a seller whose risk check fails
    (403 risk_failed with the factors; a WARN is recorded: services.risk), a date outside every
    financial year (409). Emits tradedesk.availability.submitted (and .approved with
    `auto_approved`)."""
    with transaction.atomic():
        availability = lock_availability(availability_id)
        ensure_can_post(actor, posting_partner(availability.partner_id), SELL)
        if availability.status != DRAFT:
            raise InvalidTransition(action="submit", current=availability.status, allowed=(DRAFT,))
        now = timezone.now()
        if availability.expires_at <= now:
            raise _invalid("available_until", "window_passed", "The window has passed: change it, then submit.")
        _ensure_ship_from_still_valid(availability)
        availability_risk_on_submit(availability)
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
    if is_member_of(actor, posting_partner(availability.partner_id)):
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
        ensure_partner_may_trade(posting_partner(availability.partner_id), SELL)
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
    partner = posting_partner(availability.partner_id)
    ensure_partner_permission(
        actor, partner, partner_perm=TRADE_FOR_PARTNER, staff_perm=CHANGE_AVAILABILITY, write=False
    )
    if partner.status == PartnerStatus.BLOCKED and not is_staff_of(actor, partner.organization_id):
        raise PartnerBlocked()


def release_all_reservations(
    availability: Availability, *, actor: User | None, reason: str, now: datetime
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
            quantity_kg=dec(reservation.quantity_kg, 3),
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
            released_kg=dec(sum((r.quantity_kg for r in released), Decimal(0)), 3),
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
