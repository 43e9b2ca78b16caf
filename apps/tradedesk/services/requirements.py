"""Requirements, a buyer's need (SPEC section 7): created and changed in DRAFT, published
(ACTIVE, numbered from the organization's REQUIREMENT series), changed while live (price,
quantity, spec, delivery window and locations only, each change announced with what changed),
cancelled, expired by the beat job, and fulfilled by trade-desk services (never by a client).

Locks, in this order: the requirement row (`locks.lock_requirement`), each delivery location
FOR SHARE in id order (`locations.services.lock_location_for_reference`, so a location cannot be
deactivated under an open requirement), then the document series (numbering, last). Every check
runs before the first write, inside the transaction: a refusal leaves nothing behind.

Quantities are entered in one unit and kept in kg (`conversions.to_kg`); prices per price unit
and per kg, computed exactly and rounded once to the 4 places the model keeps. Specs are cleaned
by `commodities.quality.validate_spec` and stored with Decimals as strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from apps.accounts.models import User
from apps.commodities.conversions import to_kg
from apps.commodities.models import TermKind
from apps.commodities.quality import validate_spec
from apps.core.errors import FieldError, FieldErrors
from apps.core.unset import UNSET, Unset, given_fields
from apps.events.emit import emit
from apps.locations.errors import LocationInactive, LocationNotFound
from apps.locations.locks import lock_location_for_reference
from apps.locations.models import Location
from apps.organizations.models import DocumentType
from apps.organizations.services.numbering import next_document_number
from apps.partners.models import BusinessPartner
from apps.partners.permissions import TRADE_FOR_PARTNER, ensure_partner_permission
from apps.tradedesk import events
from apps.tradedesk.errors import (
    FulfilmentExceedsMax,
    FulfilmentReversalExceeds,
    InvalidTransition,
    RequirementFieldNotEditable,
    RequirementInvalid,
    RequirementNotFound,
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
from apps.tradedesk.locks import lock_requirement
from apps.tradedesk.models import (
    Requirement,
    RequirementDeliveryLocation,
    RequirementStatus,
    Urgency,
    Visibility,
)
from apps.tradedesk.permissions import BUY, ensure_can_post
from apps.tradedesk.services.risk import (
    credit_lock_for_requirement,
    requirement_exposure_release,
    requirement_risk_on_publish,
)

CHANGE_REQUIREMENT = "tradedesk.change_requirement"

DRAFT = RequirementStatus.DRAFT
ACTIVE = RequirementStatus.ACTIVE
PARTIALLY_FULFILLED = RequirementStatus.PARTIALLY_FULFILLED
FULFILLED = RequirementStatus.FULFILLED
# A live requirement is on the market; an open one also holds its delivery locations.
LIVE_STATES: tuple[str, ...] = (ACTIVE, PARTIALLY_FULFILLED)
OPEN_STATES: tuple[str, ...] = (DRAFT, ACTIVE, PARTIALLY_FULFILLED)


@dataclass(frozen=True, kw_only=True)
class DeliveryLocationInput:
    """One place a requirement takes delivery at: a location and the radius around it (0 for
    the place itself)."""

    location_id: UUID
    radius_km: Decimal


@dataclass(frozen=True, kw_only=True)
class RequirementFields:
    """What a buyer enters for a requirement, for `requirement_create` and `requirement_update`.
    Every field defaults to UNSET: on create a required one left out is refused with the other
    errors (400, all at once), on update it keeps its value. The types are what the API's
    serializer parses to; the service still checks every rule on them.

    Quantities are in `quantity_unit`, prices per `price_unit`; `spec` holds per parameter code
    any of min, max, preferred, exact, accepted; the delivery window is in dates, the validity in
    instants."""

    commodity_id: UUID | Unset = UNSET
    variety_id: UUID | Unset | None = UNSET
    quantity_unit: str | Unset = UNSET
    min_quantity: Decimal | Unset = UNSET
    max_quantity: Decimal | Unset = UNSET
    preferred_quantity: Decimal | Unset | None = UNSET
    spec: Mapping[str, Any] | Unset = UNSET
    price_unit: str | Unset = UNSET
    max_price: Decimal | Unset = UNSET
    preferred_price: Decimal | Unset | None = UNSET
    # Rows as mappings too (a form's, a test's): the cleaning checks each row's keys and types.
    delivery_locations: Sequence[DeliveryLocationInput | Mapping[str, Any]] | Unset = UNSET
    delivery_from: date | Unset = UNSET
    delivery_until: date | Unset = UNSET
    payment_term_id: UUID | Unset | None = UNSET
    delivery_term_id: UUID | Unset | None = UNSET
    urgency: str | Unset = UNSET
    visibility: str | Unset = UNSET
    invited_partner_ids: Sequence[UUID] | Unset = UNSET
    valid_from: datetime | Unset = UNSET
    valid_until: datetime | Unset = UNSET

    def given(self) -> dict[str, Any]:
        """The fields given, as the cleaning reads them (delivery locations as plain rows)."""
        values = given_fields(self)
        if "delivery_locations" in values:
            values["delivery_locations"] = [
                {"location_id": row.location_id, "radius_km": row.radius_km}
                if isinstance(row, DeliveryLocationInput)
                else row
                for row in values["delivery_locations"]
            ]
        return values


# What a published requirement may still change (the issue: price, quantity and spec, plus the
# delivery window and locations). Everything else is fixed at publish.
FIXED_WHEN_LIVE = (
    "commodity_id",
    "variety_id",
    "payment_term_id",
    "delivery_term_id",
    "urgency",
    "visibility",
    "invited_partner_ids",
    "valid_from",
    "valid_until",
)
MAX_DELIVERY_LOCATIONS = 20
REASON_MAX_LENGTH = 500

QUANTITY_FIELDS = ("min_quantity", "max_quantity", "preferred_quantity")
PRICE_FIELDS = ("max_price", "preferred_price")


# --- input cleaning -----------------------------------------------------------------------------


@dataclass
class _Cleaned(Cleaned):
    locations: list[tuple[Location, Decimal]] = field(default_factory=list)


_in = Inputs(RequirementInvalid, noun="requirement")
_invalid = RequirementInvalid


def _number(raw: Mapping[str, Any], name: str, code: str, *, places: int, required: bool) -> Decimal | None:
    """A positive number (None when left out and not required)."""
    if not required and raw.get(name) is None:
        return None
    value = _in.number(_in.required(raw, name), name, places=places, max_digits=16)
    if value <= 0:
        raise _invalid(name, code, f"{name} must be more than zero; got {value}.")
    return value


def _clean_quantities(raw: Mapping[str, Any], check: FieldErrors) -> dict[str, Any]:
    """The unit and each quantity refused on their own; the range and kg checks need them all."""
    unit = check.run(lambda: _in.unit(raw.get("quantity_unit"), "quantity_unit", default=None))
    values: dict[str, Decimal | None] = {}
    for name in QUANTITY_FIELDS:
        required = name != "preferred_quantity"
        values[name] = check.run(
            lambda name=name, required=required: _number(raw, name, "quantity_invalid", places=3, required=required)
        )
    low, high, preferred = values["min_quantity"], values["max_quantity"], values["preferred_quantity"]
    if unit is None or low is None or high is None or (preferred is None and raw.get("preferred_quantity") is not None):
        return {}

    def in_kg() -> dict[str, Any]:
        if high < low:
            raise _invalid(
                "max_quantity", "quantity_range_invalid", f"max_quantity {high} is below min_quantity {low}."
            )
        if preferred is not None and not low <= preferred <= high:
            raise _invalid(
                "preferred_quantity",
                "quantity_range_invalid",
                f"preferred_quantity {preferred} lies outside {low} to {high}.",
            )
        min_kg, max_kg = to_kg(low, unit), to_kg(high, unit)
        if min_kg <= 0:
            raise _invalid("min_quantity", "quantity_invalid", f"min_quantity {low} {unit.code} is less than a gram.")
        if max_kg >= Decimal(10) ** 13:
            raise _invalid("max_quantity", "too_large", f"max_quantity {high} {unit.code} is too large.")
        return {
            "quantity_unit": unit.unit,
            "quantity_unit_factor": unit.factor_to_kg,
            "min_quantity": low,
            "max_quantity": high,
            "preferred_quantity": preferred,
            "min_kg": min_kg,
            "max_kg": max_kg,
            "preferred_kg": to_kg(preferred, unit) if preferred is not None else None,
        }

    return check.run(in_kg) or {}


def _clean_prices(raw: Mapping[str, Any], check: FieldErrors) -> dict[str, Any]:
    """The unit and each price refused on their own; comparing them and the per-kg prices need them."""
    unit = check.run(lambda: _in.unit(raw.get("price_unit"), "price_unit", default=None))
    max_price = check.run(lambda: _number(raw, "max_price", "price_invalid", places=2, required=True))
    preferred = check.run(lambda: _number(raw, "preferred_price", "price_invalid", places=2, required=False))
    if unit is None or max_price is None or (preferred is None and raw.get("preferred_price") is not None):
        return {}

    def per_kg_prices() -> dict[str, Any]:
        if preferred is not None and preferred > max_price:
            raise _invalid(
                "preferred_price",
                "preferred_above_max",
                f"preferred_price {preferred} is above max_price {max_price}; the maximum is what you will pay at most.",
            )
        return {
            "price_unit": unit.unit,
            "price_unit_factor": unit.factor_to_kg,
            "max_price": max_price,
            "preferred_price": preferred,
            "max_price_per_kg": per_kg(max_price, unit),
            "preferred_price_per_kg": per_kg(preferred, unit) if preferred is not None else None,
        }

    return check.run(per_kg_prices) or {}


def _clean_windows(raw: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    delivery_from = _in.date(_in.required(raw, "delivery_from"), "delivery_from")
    delivery_until = _in.date(_in.required(raw, "delivery_until"), "delivery_until")
    if delivery_until < delivery_from:
        raise _invalid(
            "delivery_until",
            "window_invalid",
            f"The delivery window ends ({delivery_until}) before it starts ({delivery_from}).",
        )
    valid_from = _in.datetime(raw.get("valid_from") or now, "valid_from")
    valid_until = _in.datetime(_in.required(raw, "valid_until"), "valid_until")
    if valid_until <= valid_from:
        raise _invalid(
            "valid_until", "window_invalid", "The requirement's validity ends (valid_until) before it starts."
        )
    if valid_until <= now:
        raise _invalid("valid_until", "valid_until_passed", "valid_until has passed; a requirement must end later.")
    return {
        "delivery_from": delivery_from,
        "delivery_until": delivery_until,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }


def _clean_locations(raw: Mapping[str, Any]) -> list[tuple[Location, Decimal]]:
    """The delivery locations in the order given, each locked FOR SHARE (in id order)."""
    items = raw.get("delivery_locations")
    if not isinstance(items, (list, tuple)) or not items:
        raise _invalid(
            "delivery_locations", "delivery_locations_required", "Give at least one delivery location with a radius."
        )
    if len(items) > MAX_DELIVERY_LOCATIONS:
        raise _invalid(
            "delivery_locations",
            "too_many_locations",
            f"A requirement has at most {MAX_DELIVERY_LOCATIONS} delivery locations.",
        )
    wanted: list[tuple[UUID, Decimal]] = []
    for index, item in enumerate(items):
        attr = f"delivery_locations.{index}"
        if not isinstance(item, Mapping):
            raise _invalid(attr, "location_invalid", "Each delivery location is {location_id, radius_km}.")
        location_id = _in.uuid(item.get("location_id"), f"{attr}.location_id", "location_invalid")
        if item.get("radius_km") is None:
            raise _invalid(f"{attr}.radius_km", "required", "radius_km is required (0 for the place itself).")
        radius = _in.number(item["radius_km"], f"{attr}.radius_km", places=2, max_digits=7)
        if radius < 0:
            raise _invalid(f"{attr}.radius_km", "radius_invalid", f"radius_km must not be negative; got {radius}.")
        if location_id in {seen for seen, _ in wanted}:
            raise _invalid(f"{attr}.location_id", "location_duplicate", "This location is listed twice.")
        wanted.append((location_id, radius))
    locked: dict[UUID, Location] = {}
    for index, (location_id, _radius) in sorted(enumerate(wanted), key=lambda pair: str(pair[1][0])):
        try:
            locked[location_id] = lock_location_for_reference(location_id)
        except (LocationNotFound, LocationInactive):
            raise _invalid(
                f"delivery_locations.{index}.location_id", "location_invalid", "No active location has this id."
            ) from None
    return [(locked[location_id], radius) for location_id, radius in wanted]


def _clean(
    *,
    raw: Mapping[str, Any],
    partner: BusinessPartner,
    current: Requirement | None,
    now: datetime,
    prior_errors: Sequence[FieldError] = (),
) -> _Cleaned:
    """Every field cleaned, every refusal collected (core.errors.FieldErrors): one refusal is
    raised as itself, several as requirement_invalid listing them, and with `prior_errors` (the
    API's type checks) as validation_failed listing all. A check that needs a refused field (the
    kg on the unit, the spec on the commodity) is not made."""
    check = FieldErrors(prior_errors)
    commodity = check.run(lambda: _in.commodity(raw, current.commodity_id if current else None))
    fields: dict[str, Any] = {"commodity": commodity}
    if commodity is not None:
        fields["variety"] = check.run(lambda: _in.variety(raw, commodity, current.variety_id if current else None))
    fields.update(_clean_quantities(raw, check))
    if commodity is not None:
        fields["spec"] = check.run(lambda: jsonable(validate_spec(commodity, raw.get("spec") or {})))
    fields.update(_clean_prices(raw, check))
    fields.update(check.run(lambda: _clean_windows(raw, now)) or {})
    fields["payment_term"] = check.run(
        lambda: _in.term(raw, "payment_term_id", TermKind.PAYMENT, current.payment_term_id if current else None)
    )
    fields["delivery_term"] = check.run(
        lambda: _in.term(raw, "delivery_term_id", TermKind.DELIVERY, current.delivery_term_id if current else None)
    )
    fields["urgency"] = check.run(lambda: _in.choice(raw, "urgency", Urgency.values, Urgency.NORMAL))
    visibility = check.run(lambda: _in.choice(raw, "visibility", Visibility.values, Visibility.PUBLIC))
    fields["visibility"] = visibility
    invited = check.run(lambda: _in.invited(raw, visibility, partner)) if visibility is not None else None
    locations = check.run(lambda: _clean_locations(raw))
    check.raise_if_any(RequirementInvalid.several)
    first = locations[0][0]
    fields["state_code"], fields["region"] = first.state_code, first.region
    return _Cleaned(fields=fields, locations=locations, invited=invited or [])


# --- snapshots: what changed, and the event payloads ---------------------------------------------


def _snapshot(
    fields: Mapping[str, Any], locations: Iterable[tuple[UUID, Decimal]], invited_ids: Iterable[UUID]
) -> dict[str, Any]:
    """The JSON-safe state of a requirement's inputs and what derives from them (`fields` holds
    model field values: related objects for the foreign keys)."""

    def pk(name: str) -> str | None:
        obj = fields.get(name)
        return None if obj is None else str(obj.pk)

    return {
        "commodity_id": pk("commodity"),
        "variety_id": pk("variety"),
        "quantity_unit": fields["quantity_unit"].code,
        "quantity_unit_factor": dec(fields["quantity_unit_factor"], 8),
        "min_quantity": dec(fields["min_quantity"], 3),
        "max_quantity": dec(fields["max_quantity"], 3),
        "preferred_quantity": dec(fields["preferred_quantity"], 3),
        "min_kg": dec(fields["min_kg"], 3),
        "max_kg": dec(fields["max_kg"], 3),
        "preferred_kg": dec(fields["preferred_kg"], 3),
        "spec": fields["spec"],
        "price_unit": fields["price_unit"].code,
        "price_unit_factor": dec(fields["price_unit_factor"], 8),
        "max_price": dec(fields["max_price"], 2),
        "preferred_price": dec(fields["preferred_price"], 2),
        "max_price_per_kg": dec(fields["max_price_per_kg"], PER_KG_PLACES),
        "preferred_price_per_kg": dec(fields["preferred_price_per_kg"], PER_KG_PLACES),
        "delivery_from": fields["delivery_from"].isoformat(),
        "delivery_until": fields["delivery_until"].isoformat(),
        "delivery_locations": [
            {"location_id": str(location_id), "radius_km": dec(radius, 2)} for location_id, radius in locations
        ],
        "state_code": fields["state_code"],
        "region": fields["region"],
        "payment_term_id": pk("payment_term"),
        "delivery_term_id": pk("delivery_term"),
        "urgency": fields["urgency"],
        "visibility": fields["visibility"],
        "invited_partner_ids": sorted(str(partner_id) for partner_id in invited_ids),
        "valid_from": instant(fields["valid_from"]),
        "valid_until": instant(fields["valid_until"]),
    }


SNAPSHOT_FIELDS = (
    "commodity",
    "variety",
    "quantity_unit",
    "quantity_unit_factor",
    *QUANTITY_FIELDS,
    "min_kg",
    "max_kg",
    "preferred_kg",
    "spec",
    "price_unit",
    "price_unit_factor",
    *PRICE_FIELDS,
    "max_price_per_kg",
    "preferred_price_per_kg",
    "delivery_from",
    "delivery_until",
    "state_code",
    "region",
    "payment_term",
    "delivery_term",
    "urgency",
    "visibility",
    "valid_from",
    "valid_until",
)


def _locations_of(requirement: Requirement) -> list[RequirementDeliveryLocation]:
    return list(requirement.delivery_locations.select_related("location").order_by("created_at", "id"))


def _snapshot_of(requirement: Requirement) -> dict[str, Any]:
    fields = {name: getattr(requirement, name) for name in SNAPSHOT_FIELDS}
    locations = [(row.location_id, row.radius_km) for row in _locations_of(requirement)]
    invited = requirement.invited_partners.values_list("pk", flat=True)
    return _snapshot(fields, locations, invited)


def _snapshot_of_cleaned(cleaned: _Cleaned) -> dict[str, Any]:
    locations = [(location.pk, radius) for location, radius in cleaned.locations]
    return _snapshot(cleaned.fields, locations, [partner.pk for partner in cleaned.invited])


def requirement_payload(requirement: Requirement) -> dict[str, Any]:
    """What consumers of the requirement events need (the market among them): the posting's
    commodity, quantities in kg, prices per kg, spec, state and region, urgency, visibility, status
    and windows. The buyer is not named here: the envelope carries `partner_id`, so the market
    fan-out can drop it (invited_partner_ids are the invitees, for RESTRICTED visibility)."""
    snapshot = _snapshot_of(requirement)
    return {
        "requirement_id": str(requirement.pk),
        "number": requirement.number,
        "status": requirement.status,
        "commodity_code": requirement.commodity.code,
        "variety_code": requirement.variety.code if requirement.variety is not None else None,
        **snapshot,
        "fulfilled_kg": dec(requirement.fulfilled_kg, 3),
        "remaining_kg": dec(requirement.max_kg - requirement.fulfilled_kg, 3),
        "currency": requirement.currency,
        "published_at": instant(requirement.published_at),
        "closed_at": instant(requirement.closed_at),
    }


def _emit(event_type: str, requirement: Requirement, actor: User | None, **extra: Any) -> None:
    emit(
        event_type,
        aggregate=requirement,
        actor=actor,
        organization_id=requirement.organization_id,
        partner_id=requirement.partner_id,
        payload={**requirement_payload(requirement), **extra},
    )


# --- writes ---------------------------------------------------------------------------------------


def _save_locations(requirement: Requirement, locations: list[tuple[Location, Decimal]]) -> None:
    """Make the requirement's delivery locations exactly `locations`, in that order (rows are
    written one by one so their creation order is the given order)."""
    requirement.delivery_locations.all().delete()
    for location, radius in locations:
        RequirementDeliveryLocation.objects.create(requirement=requirement, location=location, radius_km=radius)


def requirement_create(
    *, actor: User, partner_id: UUID, fields: RequirementFields, prior_errors: Sequence[FieldError] = ()
) -> Requirement:
    """A DRAFT requirement of the partner (its members with the trade right, or desk staff).
    Refuses a partner that may not buy now (403), and any invalid input (400 with every field's
    error at once, see the module docstring, `RequirementInvalid` and `_clean`; `prior_errors` are
    the fields the API's type checks refused). Emits tradedesk.requirement.created."""
    data = fields.given()
    with transaction.atomic():
        partner = posting_partner(partner_id)
        ensure_can_post(actor, partner, BUY)
        cleaned = _clean(raw=data, partner=partner, current=None, now=timezone.now(), prior_errors=prior_errors)
        requirement = Requirement(
            organization_id=partner.organization_id,
            partner=partner,
            created_by=actor,
            status=DRAFT,
            **cleaned.fields,
        )
        requirement.save()
        _save_locations(requirement, cleaned.locations)
        requirement.invited_partners.set(cleaned.invited)
        _emit(events.REQUIREMENT_CREATED, requirement, actor)
    return requirement


def _current_inputs(requirement: Requirement, locations: list[RequirementDeliveryLocation]) -> dict[str, Any]:
    """The requirement as service input, so that a change is validated with everything it keeps.
    Units carry the factors stored on the row (a unit's factor in the master may have moved)."""
    return {
        "commodity_id": requirement.commodity_id,
        "variety_id": requirement.variety_id,
        "quantity_unit": UnitFactor.stored(requirement.quantity_unit, requirement.quantity_unit_factor),
        "min_quantity": requirement.min_quantity,
        "max_quantity": requirement.max_quantity,
        "preferred_quantity": requirement.preferred_quantity,
        "spec": requirement.spec,
        "price_unit": UnitFactor.stored(requirement.price_unit, requirement.price_unit_factor),
        "max_price": requirement.max_price,
        "preferred_price": requirement.preferred_price,
        "delivery_locations": [{"location_id": row.location_id, "radius_km": row.radius_km} for row in locations],
        "delivery_from": requirement.delivery_from,
        "delivery_until": requirement.delivery_until,
        "payment_term_id": requirement.payment_term_id,
        "delivery_term_id": requirement.delivery_term_id,
        "urgency": requirement.urgency,
        "visibility": requirement.visibility,
        "invited_partner_ids": list(requirement.invited_partners.values_list("pk", flat=True)),
        "valid_from": requirement.valid_from,
        "valid_until": requirement.valid_until,
    }


def _merged(requirement: Requirement, changes: Mapping[str, Any]) -> dict[str, Any]:
    return merged_inputs(_current_inputs(requirement, _locations_of(requirement)), changes)


def requirement_update(
    *, actor: User, requirement_id: UUID, changes: RequirementFields, prior_errors: Sequence[FieldError] = ()
) -> Requirement:
    """Change a requirement: anything in DRAFT; once ACTIVE or PARTIALLY_FULFILLED only its
    quantities, spec, prices, delivery window and locations (409 field_not_editable otherwise;
    a maximum must stay above what is already fulfilled). The whole requirement is validated
    again as it would be after the change. Emits tradedesk.requirement.updated with the current
    payload and `changed`: `{field: {"from": ..., "to": ...}}` for exactly the fields that
    changed (derived ones such as kg and per-kg prices included); nothing when nothing changed."""
    given = changes.given()
    with transaction.atomic():
        requirement = lock_requirement(requirement_id)
        ensure_can_post(actor, requirement.partner, BUY)
        if requirement.status not in OPEN_STATES:
            raise InvalidTransition(action="change the requirement", current=requirement.status, allowed=OPEN_STATES)
        before = _snapshot_of(requirement)
        cleaned = _clean(
            raw=_merged(requirement, given),
            partner=requirement.partner,
            current=requirement,
            now=timezone.now(),
            prior_errors=prior_errors,
        )
        after = _snapshot_of_cleaned(cleaned)
        changed = {key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]}
        if requirement.status != DRAFT:
            fixed = [key for key in FIXED_WHEN_LIVE if key in changed]
            if fixed:
                raise RequirementFieldNotEditable(fixed, current=requirement.status)
            if requirement.fulfilled_kg > 0 and cleaned.fields["max_kg"] <= requirement.fulfilled_kg:
                raise _invalid(
                    "max_quantity",
                    "max_not_above_fulfilled",
                    f"{requirement.fulfilled_kg} kg are fulfilled already; the maximum must stay above that.",
                )
        if not changed:
            return requirement
        for name, value in cleaned.fields.items():
            setattr(requirement, name, value)
        requirement.save()
        if "delivery_locations" in changed:
            _save_locations(requirement, cleaned.locations)
        if "invited_partner_ids" in changed:
            requirement.invited_partners.set(cleaned.invited)
        _emit(events.REQUIREMENT_UPDATED, requirement, actor, changed=changed)
    return requirement


def requirement_publish(*, actor: User, requirement_id: UUID) -> Requirement:
    """DRAFT -> ACTIVE: on the market from now, numbered RQ/<FY>/NNNNNN from the organization's
    REQUIREMENT series (gapless: the number is taken last, in this transaction). Refuses another
    state (409 invalid_transition), a passed valid_until or delivery window and a delivery location
    deactivated since (400), a partner that may not buy now (403), a buyer whose credit is blocked
    (409 credit_blocked) or whose risk check fails (403 risk_failed), a date outside every financial
    year (409). Locks the buyer's credit row first; books the requirement's value as POSTED
    exposure (services.risk). Emits tradedesk.requirement.published."""
    with transaction.atomic():
        credit_lock_for_requirement(requirement_id)
        requirement = lock_requirement(requirement_id)
        ensure_can_post(actor, requirement.partner, BUY)
        if requirement.status != DRAFT:
            raise InvalidTransition(action="publish", current=requirement.status, allowed=(DRAFT,))
        now = timezone.now()
        if requirement.valid_until <= now:
            raise _invalid("valid_until", "valid_until_passed", "valid_until has passed: change it, then publish.")
        if requirement.delivery_until < timezone.localdate(now):
            raise _invalid(
                "delivery_until", "window_passed", "The delivery window lies in the past: change it, then publish."
            )
        locations = _locations_of(requirement)
        _clean_locations(
            {"delivery_locations": [{"location_id": r.location_id, "radius_km": r.radius_km} for r in locations]}
        )
        requirement_risk_on_publish(requirement)
        requirement.number = next_document_number(
            organization=requirement.organization_id, doc_type=DocumentType.REQUIREMENT, on_date=timezone.localdate(now)
        )
        requirement.status = ACTIVE
        requirement.published_at = now
        requirement.save(update_fields=["number", "status", "published_at", "updated_at"])
        _emit(events.REQUIREMENT_PUBLISHED, requirement, actor)
    return requirement


def requirement_cancel(*, actor: User, requirement_id: UUID, reason: str = "") -> Requirement:
    """DRAFT, ACTIVE or PARTIALLY_FULFILLED -> CANCELLED (what is fulfilled stays fulfilled), by
    the buyer's members with the trade right or staff with tradedesk.change_requirement. A
    partner that may not buy any more may still withdraw its need (its KYC and capability are not
    checked), but a suspended partner's users write nothing (staff cancel for it). Emits
    tradedesk.requirement.cancelled with the reason and the state it left."""
    if len(reason) > REASON_MAX_LENGTH:
        raise _invalid("reason", "too_long", f"The reason has at most {REASON_MAX_LENGTH} characters.")
    with transaction.atomic():
        credit_lock_for_requirement(requirement_id)
        requirement = lock_requirement(requirement_id)
        ensure_partner_permission(
            actor, requirement.partner, partner_perm=TRADE_FOR_PARTNER, staff_perm=CHANGE_REQUIREMENT
        )
        if requirement.status not in OPEN_STATES:
            raise InvalidTransition(action="cancel", current=requirement.status, allowed=OPEN_STATES)
        previous = requirement.status
        requirement.status = RequirementStatus.CANCELLED
        requirement.closed_at = timezone.now()
        requirement.save(update_fields=["status", "closed_at", "updated_at"])
        requirement_exposure_release(requirement)
        _emit(events.REQUIREMENT_CANCELLED, requirement, actor, reason=reason, previous_status=previous)
    return requirement


def requirements_expire_due(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """ACTIVE or PARTIALLY_FULFILLED requirements whose valid_until has come -> EXPIRED, each with
    tradedesk.requirement.expired. Idempotent: an expired requirement is never picked again, and
    rows locked by a concurrent change are left for the next run (SKIP LOCKED). Returns how many
    expired."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            due = list(
                Requirement.objects.select_for_update(skip_locked=True)
                .filter(status__in=LIVE_STATES, valid_until__lte=now)
                .order_by("valid_until", "id")[:batch_size]
            )
            for requirement in due:
                previous = requirement.status
                requirement.status = RequirementStatus.EXPIRED
                requirement.closed_at = now
                requirement.save(update_fields=["status", "closed_at", "updated_at"])
                _emit(events.REQUIREMENT_EXPIRED, requirement, None, previous_status=previous)
        expired += len(due)
        if len(due) < batch_size:
            return expired


def requirement_record_fulfilment(
    *, requirement_id: UUID, quantity_kg: Decimal, reference: str, actor: User | None = None
) -> Requirement:
    """Add `quantity_kg` (> 0) fulfilled by a trade (`reference` names it) to a live requirement,
    for trade-desk services only: no client endpoint calls this.

    One conditional UPDATE (`fulfilled_kg + q <= max_kg`), so concurrent fulfilments can never
    take a requirement beyond its maximum (409 fulfilment_exceeds_max, nothing written). The
    status follows what is fulfilled: below the maximum PARTIALLY_FULFILLED, at it FULFILLED
    (closed). A requirement that is not ACTIVE or PARTIALLY_FULFILLED: 409 invalid_transition.
    Emits tradedesk.requirement.fulfilment_changed, and tradedesk.requirement.fulfilled when
    the maximum is reached."""
    quantity = _in.number(quantity_kg, "quantity_kg", places=3, max_digits=16)
    if quantity <= 0:
        raise _invalid("quantity_kg", "quantity_invalid", f"quantity_kg must be more than zero; got {quantity}.")
    with transaction.atomic():
        now = timezone.now()
        reaches_max = Q(max_kg=F("fulfilled_kg") + quantity)
        updated = Requirement.objects.filter(
            pk=requirement_id, status__in=LIVE_STATES, fulfilled_kg__lte=F("max_kg") - quantity
        ).update(
            fulfilled_kg=F("fulfilled_kg") + quantity,
            status=Case(When(reaches_max, then=Value(FULFILLED)), default=Value(PARTIALLY_FULFILLED)),
            closed_at=Case(When(reaches_max, then=Value(now)), default=F("closed_at")),
            updated_at=now,
        )
        requirement = Requirement.objects.filter(pk=requirement_id).first()
        if requirement is None:
            raise RequirementNotFound()
        if not updated:
            if requirement.status not in LIVE_STATES:
                raise InvalidTransition(action="record a fulfilment", current=requirement.status, allowed=LIVE_STATES)
            remaining = requirement.max_kg - requirement.fulfilled_kg
            raise FulfilmentExceedsMax(
                f"{quantity} kg would exceed the maximum: {remaining} kg remain of {requirement.max_kg} kg.",
                extra={"remaining_kg": str(remaining), "max_kg": str(requirement.max_kg)},
            )
        _emit(
            events.REQUIREMENT_FULFILMENT_CHANGED,
            requirement,
            actor,
            quantity_kg=dec(quantity, 3),
            reference=reference,
        )
        if requirement.status == FULFILLED:
            _emit(events.REQUIREMENT_FULFILLED, requirement, actor, reference=reference)
    return requirement


def requirement_reverse_fulfilment(
    *, requirement_id: UUID, quantity_kg: Decimal, reference: str, actor: User | None = None
) -> Requirement:
    """Take back `quantity_kg` (> 0) a trade (`reference`) had fulfilled: the trade was cancelled
    or its quantity cut. For trade services only.

    One conditional UPDATE (`fulfilled_kg >= q`). A FULFILLED or PARTIALLY_FULFILLED requirement
    is live again: PARTIALLY_FULFILLED while something stays fulfilled, ACTIVE when nothing does
    (its validity still applies: the expiry job closes it if it has passed). A CANCELLED or
    EXPIRED requirement keeps its state (only the figure moves). 409
    fulfilment_reversal_exceeds with `fulfilled_kg` when less than that is fulfilled; nothing is
    written then. Emits tradedesk.requirement.fulfilment_changed with a negative quantity."""
    quantity = _in.number(quantity_kg, "quantity_kg", places=3, max_digits=16)
    if quantity <= 0:
        raise _invalid("quantity_kg", "quantity_invalid", f"quantity_kg must be more than zero; got {quantity}.")
    with transaction.atomic():
        now = timezone.now()
        reopened = Q(status__in=(FULFILLED, PARTIALLY_FULFILLED))
        updated = Requirement.objects.filter(pk=requirement_id, fulfilled_kg__gte=quantity).update(
            fulfilled_kg=F("fulfilled_kg") - quantity,
            status=Case(
                When(reopened & Q(fulfilled_kg=quantity), then=Value(ACTIVE)),
                When(reopened, then=Value(PARTIALLY_FULFILLED)),
                default=F("status"),
            ),
            closed_at=Case(When(reopened, then=Value(None)), default=F("closed_at")),
            updated_at=now,
        )
        requirement = Requirement.objects.filter(pk=requirement_id).first()
        if requirement is None:
            raise RequirementNotFound()
        if not updated:
            raise FulfilmentReversalExceeds(
                f"Only {requirement.fulfilled_kg} kg is fulfilled; {quantity} kg cannot be taken back.",
                extra={"fulfilled_kg": str(requirement.fulfilled_kg)},
            )
        _emit(
            events.REQUIREMENT_FULFILMENT_CHANGED,
            requirement,
            actor,
            quantity_kg=dec(-quantity, 3),
            reference=reference,
            reversed=True,
        )
    return requirement
