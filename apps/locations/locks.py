"""Row locks of locations: `lock_location` (FOR UPDATE, for the location's own writes) and
`lock_location_for_reference` (FOR SHARE, for the apps that point at a location)."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction

from apps.locations.errors import LocationInactive, LocationNotFound
from apps.locations.models import Location


def lock_location(location_id: UUID) -> Location:
    location = Location.objects.select_for_update().filter(pk=location_id).first()
    if location is None:
        raise LocationNotFound()
    return location


def lock_location_for_reference(location_id: UUID) -> Location:
    """For referrers (branches, availabilities ...): take the location with FOR SHARE in the caller's
    transaction and refuse an inactive one. Held until the caller commits, the lock makes a
    concurrent `location_deactivate` wait and then count the new reference."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_location_for_reference() must run inside transaction.atomic()")
    rows = list(Location.objects.raw("SELECT * FROM locations_location WHERE id = %s FOR SHARE", [location_id]))
    if not rows:
        raise LocationNotFound()
    if not rows[0].is_active:
        raise LocationInactive()
    return rows[0]
