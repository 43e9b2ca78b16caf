"""The geocoding adapter's contract: suggestions while typing, then the details of one place."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from apps.locations.models import COORDINATE_PLACES


@dataclass(frozen=True)
class Suggestion:
    place_id: str
    description: str  # one line: "Gondal, Rajkot district, Gujarat"
    main_text: str  # "Gondal"
    secondary_text: str = ""  # "Rajkot district, Gujarat"
    kind: str = "place"  # town, state (gazetteer) or place (Google)


@dataclass(frozen=True)
class PlaceDetails:
    place_id: str
    name: str
    source: str  # a LocationSource value
    latitude: Decimal
    longitude: Decimal
    address: str = ""
    city: str = ""
    district: str = ""
    state: str = ""
    state_code: str = ""
    pincode: str = ""
    country: str = "IN"
    timezone: str = "Asia/Kolkata"

    def as_location_fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "place_id": self.place_id,
            "address": self.address,
            "city": self.city,
            "district": self.district,
            "state": self.state,
            "state_code": self.state_code,
            "pincode": self.pincode,
            "country": self.country,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "timezone": self.timezone,
            "source": self.source,
        }


class Geocoder(Protocol):
    source: str

    def autocomplete(self, query: str, *, limit: int = 10) -> list[Suggestion]:
        """Places matching what the user typed so far, best first, at most `limit`."""
        ...

    def place_details(self, place_id: str) -> PlaceDetails:
        """The place behind a suggestion. Raises PlaceNotFound, or GeocodingUnavailable."""
        ...


def coordinate(value: Any) -> Decimal:
    """A latitude or longitude as Decimal(9, 6)."""
    return Decimal(str(value)).quantize(COORDINATE_PLACES)
