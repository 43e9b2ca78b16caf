"""Location use cases. Every write checks the actor's capability (actor None = the system: seeders,
imports run by code) and emits its event in the same transaction."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.core.india import INDIA_TIMEZONE
from apps.core.unset import UNSET, Unset, given
from apps.events.emit import emit
from apps.locations.errors import (
    DeactivateThroughEndpoint,
    InvalidLocation,
    LocationInUse,
)
from apps.locations.events import (
    LOCATION_CREATED,
    LOCATION_DEACTIVATED,
    LOCATION_UPDATED,
    json_safe,
    location_payload,
)
from apps.locations.geocoding import PlaceDetails, geocoder_for_place_id
from apps.locations.locks import lock_location
from apps.locations.models import INDIA, Location, LocationSource
from apps.locations.permissions import ensure_can_add_location, ensure_can_change_location
from apps.locations.references import active_references

CREATE_FIELDS = frozenset(
    {
        "name",
        "place_id",
        "address",
        "city",
        "district",
        "state",
        "state_code",
        "pincode",
        "country",
        "latitude",
        "longitude",
        "timezone",
        "source",
    }
)
# `is_active` may only be set back to True here (reactivation); deactivation is location_deactivate.
UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "address",
        "city",
        "district",
        "state",
        "state_code",
        "pincode",
        "latitude",
        "longitude",
        "timezone",
        "is_active",
    }
)


def _validate(location: Location) -> None:
    """The model's field, cross-field and constraint checks, as one 400 listing every field."""
    try:
        location.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise InvalidLocation.from_validation_error(exc) from None


def location_create(
    *,
    actor: User | None,
    name: str,
    latitude: Decimal,
    longitude: Decimal,
    place_id: str | None = None,
    address: str = "",
    city: str = "",
    district: str = "",
    state: str = "",
    state_code: str = "",
    pincode: str = "",
    country: str = INDIA,
    timezone: str = INDIA_TIMEZONE,
    source: str = LocationSource.MANUAL,
) -> Location:
    """Create a location (the admin, imports, the API's manual entry); derived fields follow."""
    fields = {
        "name": name,
        "latitude": latitude,
        "longitude": longitude,
        "place_id": place_id,
        "address": address,
        "city": city,
        "district": district,
        "state": state,
        "state_code": state_code,
        "pincode": pincode,
        "country": country,
        "timezone": timezone,
        "source": source,
    }
    if actor is not None:
        ensure_can_add_location(actor)
    with transaction.atomic():
        location = Location(**fields)
        location.apply_derived_fields()
        _validate(location)
        location.save()
        emit(
            LOCATION_CREATED, aggregate=location, organization_id=None, actor=actor, payload=location_payload(location)
        )
    return location


def location_create_from_details(*, details: PlaceDetails, actor: User | None) -> tuple[Location, bool]:
    """Create the location a geocoder described, or return the one with its place id (created False)."""
    if actor is not None:
        ensure_can_add_location(actor)
    existing = Location.objects.filter(place_id=details.place_id).first()
    if existing is not None:
        return existing, False
    try:
        location = location_create(actor=actor, **details.as_location_fields())
    except IntegrityError:
        # A concurrent request created it first (the partial unique index on place_id decided).
        existing = Location.objects.filter(place_id=details.place_id).first()
        if existing is None:
            raise
        return existing, False
    return location, True


def location_create_from_place(*, place_id: str, actor: User | None) -> tuple[Location, bool]:
    """Create a location from a geocoder's place id (`gaz:rajkot`, a Google place id); idempotent on it.

    Returns the existing location (created False) without asking the geocoder when the place id is
    known. The geocoder is asked outside any transaction (no network I/O while holding locks).
    Raises PlaceNotFound or GeocodingUnavailable from the geocoder.
    """
    place_id = place_id.strip()
    if actor is not None:
        ensure_can_add_location(actor)
    existing = Location.objects.filter(place_id=place_id).first()
    if existing is not None:
        return existing, False
    details = geocoder_for_place_id(place_id).place_details(place_id)
    return location_create_from_details(details=details, actor=actor)


def location_update(
    *,
    location_id: UUID,
    actor: User | None,
    name: str | Unset = UNSET,
    address: str | Unset = UNSET,
    city: str | Unset = UNSET,
    district: str | Unset = UNSET,
    state: str | Unset = UNSET,
    state_code: str | Unset = UNSET,
    pincode: str | Unset = UNSET,
    latitude: Decimal | Unset = UNSET,
    longitude: Decimal | Unset = UNSET,
    timezone: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> Location:
    """Change a location's fields (those given); emits `locations.location.updated` with what changed.

    Locks the row. `is_active=True` reactivates; `is_active=False` is refused (use location_deactivate,
    which checks references). Derived fields (region, and for India state name and timezone) follow.
    """
    changes = given(
        name=name,
        address=address,
        city=city,
        district=district,
        state=state,
        state_code=state_code,
        pincode=pincode,
        latitude=latitude,
        longitude=longitude,
        timezone=timezone,
        is_active=is_active,
    )
    if changes.get("is_active") is False:
        raise DeactivateThroughEndpoint()
    if actor is not None:
        ensure_can_change_location(actor)
    with transaction.atomic():
        location = lock_location(location_id)
        tracked = sorted(UPDATABLE_FIELDS | {"region"})
        before = {field: getattr(location, field) for field in tracked}
        for key, value in changes.items():
            setattr(location, key, value)
        location.apply_derived_fields()
        changed = [field for field in tracked if getattr(location, field) != before[field]]
        if not changed:
            return location
        _validate(location)
        location.save(update_fields=[*changed, "updated_at"])
        emit(
            LOCATION_UPDATED,
            aggregate=location,
            organization_id=None,
            actor=actor,
            payload={
                **location_payload(location),
                "changed": {f: [json_safe(before[f]), json_safe(getattr(location, f))] for f in changed},
            },
        )
    return location


def location_deactivate(*, location_id: UUID, actor: User | None) -> Location:
    """Soft-delete a location: refused with 409 `location_in_use` while any registered referrer
    (references.py) counts active references. Locks the row (FOR UPDATE) and counts under that
    lock. Deactivating an inactive location changes nothing and emits nothing."""
    if actor is not None:
        ensure_can_change_location(actor)
    with transaction.atomic():
        location = lock_location(location_id)
        if not location.is_active:
            return location
        references = active_references(location.id)
        if references:
            raise LocationInUse(references)
        location.is_active = False
        location.save(update_fields=["is_active", "updated_at"])
        emit(
            LOCATION_DEACTIVATED,
            aggregate=location,
            organization_id=None,
            actor=actor,
            payload=location_payload(location),
        )
    return location
