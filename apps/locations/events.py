"""Event types of the locations app and their payloads (a global master: no organization)."""

from __future__ import annotations

from typing import Any

from apps.locations.models import Location

LOCATION_CREATED = "locations.location.created"
LOCATION_UPDATED = "locations.location.updated"
LOCATION_DEACTIVATED = "locations.location.deactivated"


def location_payload(location: Location) -> dict[str, Any]:
    return {
        "name": location.name,
        "place_id": location.place_id,
        "city": location.city,
        "district": location.district,
        "state_code": location.state_code,
        "region": location.region,
        "pincode": location.pincode,
        "country": location.country,
        "latitude": str(location.latitude),
        "longitude": str(location.longitude),
        "source": location.source,
        "is_active": location.is_active,
    }


def json_safe(value: Any) -> Any:
    """Decimals and other non-JSON values of a changed field, as strings."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)
