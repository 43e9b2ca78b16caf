"""A transporter's vehicles (SPEC section 6).

Only a partner whose service type is TRANSPORTER may register vehicles. Writers are the same as
for branches (the owner, refused while the partner is not ACTIVE; staff with
`partners.change_businesspartner`); every write locks the partner row first, then the vehicle.
A registration number is unique among active vehicles of every partner and organization (a
lorry is one lorry): the partial unique index decides a race and its violation is answered as
409 vehicle_already_registered. The registration number never changes: a re-registered lorry is
deactivated and registered anew. Insurance and fitness dates already past are refused when they
are given (a lapse later is a fact, not a refusal). Events: partners.vehicle.created,
partners.vehicle.updated (with the changed field names), partners.vehicle.deactivated.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit
from apps.organizations.errors import FieldInvalid
from apps.partners import events
from apps.partners.errors import (
    InvalidRegistrationNumber,
    NotATransporter,
    VehicleAlreadyRegistered,
    VehicleInactive,
    VehicleNotFound,
)
from apps.partners.locks import lock_partner
from apps.partners.models import BusinessPartner, ServiceType, Vehicle, VehicleType
from apps.partners.services.branches import ensure_can_change_partner, positive_kg

REGISTRATION_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z]{1,2}\d{4}$")
_SEPARATORS_RE = re.compile(r"[\s-]+")


def normalize_registration_number(value: str) -> str:
    """Upper case without spaces or dashes: `gj 03-ab 1234` -> `GJ03AB1234`. Refuses anything
    else than 2 letters, 2 digits, 1 or 2 letters and 4 digits (400 invalid_registration_number)."""
    number = _SEPARATORS_RE.sub("", value or "").upper()
    if not REGISTRATION_RE.match(number):
        raise InvalidRegistrationNumber(
            errors=[
                {
                    "attr": "registration_number",
                    "code": InvalidRegistrationNumber.code,
                    "detail": InvalidRegistrationNumber.default_detail,
                }
            ]
        )
    return number


def _lock_vehicle(partner: BusinessPartner, vehicle_id: UUID) -> Vehicle:
    vehicle = Vehicle.objects.select_for_update().filter(partner_id=partner.pk, pk=vehicle_id).first()
    if vehicle is None:
        raise VehicleNotFound()
    return vehicle


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(changes)
    if "vehicle_type" in cleaned and cleaned["vehicle_type"] not in VehicleType.values:
        raise FieldInvalid("vehicle_type", "invalid_choice", f"Choose one of {', '.join(VehicleType.values)}.")
    if "capacity_kg" in cleaned:
        if cleaned["capacity_kg"] is None:
            raise FieldInvalid("capacity_kg", "required", "A vehicle's capacity in kg is required.")
        cleaned["capacity_kg"] = positive_kg(cleaned["capacity_kg"], attr="capacity_kg")
    today = timezone.localdate()
    for field, what in (("insurance_valid_until", "insurance"), ("fitness_valid_until", "fitness certificate")):
        value = cleaned.get(field)
        if value is not None and (not isinstance(value, date) or value < today):
            raise FieldInvalid(
                field,
                "already_expired",
                f"The {what} must be valid today or later; renew it before recording the vehicle's papers.",
            )
    return cleaned


def _emit(event_type: str, vehicle: Vehicle, partner: BusinessPartner, actor: User | None, **extra: Any) -> None:
    emit(
        event_type,
        aggregate=vehicle,
        actor=actor,
        organization_id=partner.organization_id,
        partner_id=partner.pk,
        payload={
            "vehicle_id": str(vehicle.pk),
            "partner_id": str(partner.pk),
            "registration_number": vehicle.registration_number,
            **extra,
        },
    )


def vehicle_create(
    *,
    actor: User,
    partner_id: UUID,
    registration_number: str,
    vehicle_type: str,
    capacity_kg: Any,
    insurance_valid_until: date | None = None,
    fitness_valid_until: date | None = None,
) -> Vehicle:
    """Register a vehicle of a transporter. Refuses a partner that is not one (409
    not_a_transporter), a malformed number (400 invalid_registration_number), a number an active
    vehicle carries (409 vehicle_already_registered, also when two registrations race), a
    capacity not above zero and papers already expired (400). Emits partners.vehicle.created."""
    number = normalize_registration_number(registration_number)
    cleaned = _clean(
        {
            "vehicle_type": vehicle_type,
            "capacity_kg": capacity_kg,
            "insurance_valid_until": insurance_valid_until,
            "fitness_valid_until": fitness_valid_until,
        }
    )
    try:
        with transaction.atomic():
            partner = lock_partner(partner_id)
            ensure_can_change_partner(actor, partner)
            if partner.service_type != ServiceType.TRANSPORTER:
                raise NotATransporter()
            if Vehicle.objects.filter(registration_number=number, is_active=True).exists():
                raise VehicleAlreadyRegistered()
            vehicle = Vehicle.objects.create(partner=partner, registration_number=number, **cleaned)
            _emit(
                events.VEHICLE_CREATED,
                vehicle,
                partner,
                actor,
                vehicle_type=vehicle.vehicle_type,
                capacity_kg=str(vehicle.capacity_kg),
                insurance_valid_until=_iso(vehicle.insurance_valid_until),
                fitness_valid_until=_iso(vehicle.fitness_valid_until),
            )
    except IntegrityError as exc:
        if "vehicle_registration_unique_active" in str(exc):
            raise VehicleAlreadyRegistered() from exc
        raise
    return vehicle


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def vehicle_update(
    *,
    actor: User,
    partner_id: UUID,
    vehicle_id: UUID,
    vehicle_type: str | Unset = UNSET,
    capacity_kg: Decimal | Unset = UNSET,
    insurance_valid_until: date | Unset | None = UNSET,
    fitness_valid_until: date | Unset | None = UNSET,
) -> Vehicle:
    """Change a vehicle's type, capacity or papers' validity (those given; the registration number
    stays). Refuses a deactivated vehicle (409 vehicle_inactive). Emits
    partners.vehicle.updated listing the changed fields."""
    cleaned = _clean(
        given(
            vehicle_type=vehicle_type,
            capacity_kg=capacity_kg,
            insurance_valid_until=insurance_valid_until,
            fitness_valid_until=fitness_valid_until,
        )
    )
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_can_change_partner(actor, partner)
        vehicle = _lock_vehicle(partner, vehicle_id)
        if not vehicle.is_active:
            raise VehicleInactive()
        changed = {key: value for key, value in cleaned.items() if getattr(vehicle, key) != value}
        if not changed:
            return vehicle
        for key, value in changed.items():
            setattr(vehicle, key, value)
        vehicle.save(update_fields=[*changed, "updated_at"])
        _emit(events.VEHICLE_UPDATED, vehicle, partner, actor, fields=sorted(changed))
    return vehicle


def vehicle_deactivate(*, actor: User, partner_id: UUID, vehicle_id: UUID) -> Vehicle:
    """Take a vehicle out of service; its registration number is free again. Refuses one already
    deactivated (409 vehicle_inactive). Emits partners.vehicle.deactivated."""
    with transaction.atomic():
        partner = lock_partner(partner_id)
        ensure_can_change_partner(actor, partner)
        vehicle = _lock_vehicle(partner, vehicle_id)
        if not vehicle.is_active:
            raise VehicleInactive("The vehicle is already deactivated.")
        vehicle.is_active = False
        vehicle.save(update_fields=["is_active", "updated_at"])
        _emit(events.VEHICLE_DEACTIVATED, vehicle, partner, actor)
    return vehicle
